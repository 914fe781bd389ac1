"""What the SQL stores index for message search: a message's words (`storage.words`) as one
space-separated text, kept in the column `search_text` by the repositories. The engine's own
index reads that column (`text_search.py`), so SQLite's and PostgreSQL's tokenizers both see
plain words and agree with the words a query is split into."""

from hypersend.storage.sql.database import SqlConnection
from hypersend.storage.words import words

BATCH = 1000


def search_text(text: str | None, file_name: str | None) -> str | None:
    found = words(f"{text or ''} {file_name or ''}")
    return " ".join(found) if found else None


def fill_search_text(c: SqlConnection) -> None:
    """Give every live message stored before search its `search_text` (a migration)."""
    last = ""
    while True:
        rows = c.execute(
            "SELECT m.id, m.text, f.filename FROM messages m LEFT JOIN files f"
            " ON f.id = m.file_id WHERE m.id > ? AND m.deleted = 0 ORDER BY m.id LIMIT ?",
            (last, BATCH),
        ).fetchall()
        if not rows:
            return
        c.executemany(
            "UPDATE messages SET search_text = ? WHERE id = ?",
            [(search_text(row[1], row[2]), row[0]) for row in rows],
        )
        last = rows[-1][0]
