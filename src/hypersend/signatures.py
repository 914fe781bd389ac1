"""Comparing a signature someone sent with the one we compute, in constant time."""

import hmac


def same_text(received: str, expected: str) -> bool:
    """`hmac.compare_digest` on the UTF-8 bytes: on `str` it raises for non-ASCII text, which
    anyone can send."""
    return hmac.compare_digest(
        received.encode(errors="surrogatepass"), expected.encode(errors="surrogatepass")
    )
