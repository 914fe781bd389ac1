"""A SQLite database file opened read-only, as a snapshot to copy from."""

import sqlite3
from pathlib import Path

from hypersend.storage.copying import PAGE_SIZE
from hypersend.storage.sql.snapshot import SnapshotError, SqlSnapshot
from hypersend.storage.sqlite.migrations import MIGRATIONS


def open_sqlite_snapshot(path: Path, *, page_size: int = PAGE_SIZE) -> SqlSnapshot:
    if not path.is_file():
        raise SnapshotError(f"{path} does not exist")
    # check_same_thread=False: pages are read on worker threads, one at a time.
    connection = sqlite3.connect(
        f"{path.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False
    )
    connection.row_factory = sqlite3.Row
    try:
        version = int(connection.execute("PRAGMA user_version").fetchone()[0])
    except sqlite3.DatabaseError as exc:
        connection.close()
        raise SnapshotError(f"{path} is not a SQLite database: {exc}") from exc
    if version != len(MIGRATIONS):
        connection.close()
        raise SnapshotError(
            f"{path} is at schema version {version}, this HyperSend expects"
            f" {len(MIGRATIONS)}: start the server once on it to upgrade it, then stop it"
        )
    connection.execute("BEGIN")  # one read transaction: every table from the same moment
    return SqlSnapshot(connection.execute, connection.close, page_size=page_size)
