"""A PostgreSQL database read in one REPEATABLE READ, READ ONLY transaction, as a snapshot to
copy from; each table streams through a server-side cursor."""

from itertools import count

import psycopg

from hypersend.storage.copying import PAGE_SIZE
from hypersend.storage.postgres.database import connect
from hypersend.storage.postgres.rows import Row
from hypersend.storage.postgres.schema import MIGRATIONS
from hypersend.storage.sql.snapshot import SnapshotError, SqlSnapshot


def open_postgres_snapshot(url: str, *, page_size: int = PAGE_SIZE) -> SqlSnapshot:
    connection = connect(url)
    connection.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
    connection.read_only = True
    row = connection.execute(
        "SELECT version FROM schema_version" if _has_schema(connection) else "SELECT 0 AS version"
    ).fetchone()
    version = int(row[0]) if row else 0
    if version != len(MIGRATIONS):
        connection.close()
        raise SnapshotError(
            f"the PostgreSQL database is at schema version {version}, this HyperSend expects"
            f" {len(MIGRATIONS)}: start the server once on it to create or upgrade it"
        )
    names = count()

    def stream(query: str) -> psycopg.ServerCursor[Row]:
        cursor = connection.cursor(name=f"snapshot_{next(names)}")
        cursor.execute(query)
        return cursor

    return SqlSnapshot(stream, connection.close, page_size=page_size)


def _has_schema(connection: psycopg.Connection[Row]) -> bool:
    found = connection.execute("SELECT to_regclass('schema_version') IS NOT NULL").fetchone()
    return bool(found and found[0])
