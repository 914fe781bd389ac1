"""Signing what the server hands out, and comparing a signature someone sent with the one we
compute, in constant time."""

import hashlib
import hmac
import json


def same_text(received: str, expected: str) -> bool:
    """`hmac.compare_digest` on the UTF-8 bytes: on `str` it raises for non-ASCII text, which
    anyone can send."""
    return hmac.compare_digest(
        received.encode(errors="surrogatepass"), expected.encode(errors="surrogatepass")
    )


class Signer:
    """HMAC-SHA256 signatures of a list of fields, with a key of its own for each purpose
    (a signature made for one purpose never passes for another)."""

    def __init__(self, secret: str, purpose: bytes) -> None:
        self._key = hmac.new(secret.encode(), purpose, hashlib.sha256).digest()

    def sign(self, *fields: str | int) -> str:
        """The signature of `fields`, taken as a JSON array: no field's text can be moved
        into another without changing what is signed."""
        return hmac.new(self._key, json.dumps(fields).encode(), hashlib.sha256).hexdigest()

    def verifies(self, signature: str, *fields: str | int) -> bool:
        return same_text(signature, self.sign(*fields))
