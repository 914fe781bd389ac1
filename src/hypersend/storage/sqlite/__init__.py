"""The embedded backend: one SQLite file under `DATA_ROOT`."""

from pathlib import Path

from hypersend.storage.sql import SqlStorage
from hypersend.storage.sqlite.database import SqliteDatabase


async def open_sqlite_storage(path: Path, *, durable: bool) -> SqlStorage:
    db = SqliteDatabase(path, durable=durable)
    await db.open()
    return SqlStorage(db)
