"""Each SQL engine's own full-text index over messages, as the shared search query uses it.

Both index a message's words (the column `search_text`, `search_text.py`) and answer "every
word of the query starts a word of the message". SQLite: an FTS5 table (`message_words`) that
triggers keep in step with `messages`. PostgreSQL: a GIN index over
`to_tsvector('simple', search_text)`; the condition below repeats its expression word for
word, which is what lets the planner use it.
"""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TextSearch:
    join: str
    """Joined to `messages m` (may be empty)."""
    condition: str
    """True for the messages that match the one `?` parameter."""
    query: Callable[[list[str]], str]
    """That parameter for the query's words (each a prefix)."""


def _fts5_query(prefixes: list[str]) -> str:
    return " ".join('"' + prefix.replace('"', '""') + '"*' for prefix in prefixes)


def _tsquery(prefixes: list[str]) -> str:
    return " & ".join("'" + prefix.replace("'", "''") + "':*" for prefix in prefixes)


SQLITE_SEARCH = TextSearch(
    join="JOIN message_words w ON w.rowid = m.rowid",
    condition="message_words MATCH ?",
    query=_fts5_query,
)

POSTGRES_SEARCH = TextSearch(
    join="",
    condition=("to_tsvector('simple', coalesce(m.search_text, '')) @@ to_tsquery('simple', ?)"),
    query=_tsquery,
)
