"""Words, as message search sees them: runs of letters and digits, lower-cased.

The stores index what this finds (MongoDB keeps the list itself; SQLite's FTS5 `unicode61`
tokenizer and PostgreSQL's `simple` configuration split text the same way for letters and
digits), and a search asks for words that start with each of the query's words.
"""

import re
from collections.abc import Iterator

_WORD = re.compile(r"[^\W_]+")

MAX_WORD_CHARS = 64
"""Longer runs (a pasted hash, base64) are cut to this when they are indexed and asked for."""


def words(text: str) -> list[str]:
    """The distinct words of `text`, in order of first appearance."""
    return list(
        dict.fromkeys(match.group().lower()[:MAX_WORD_CHARS] for match in _WORD.finditer(text))
    )


def matching_spans(text: str, prefixes: list[str]) -> Iterator[tuple[int, int]]:
    """Where in `text` the words that start with one of `prefixes` are: (start, end)."""
    for match in _WORD.finditer(text):
        word = match.group().lower()
        if any(word.startswith(prefix) for prefix in prefixes):
            yield match.span()
