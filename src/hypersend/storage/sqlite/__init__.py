"""The embedded backend: one SQLite file under `DATA_ROOT`."""

from pathlib import Path

from hypersend.storage.interface import SessionRepository, UserRepository
from hypersend.storage.sqlite.accounts import SqliteSessions, SqliteUsers
from hypersend.storage.sqlite.database import SqliteDatabase


class SqliteStorage:
    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db
        self.users: UserRepository = SqliteUsers(db)
        self.sessions: SessionRepository = SqliteSessions(db)

    async def ping(self) -> None:
        await self._db.read(lambda c: c.execute("SELECT 1").fetchone())

    async def close(self) -> None:
        await self._db.close()


async def open_sqlite_storage(path: Path, *, durable: bool) -> SqliteStorage:
    db = SqliteDatabase(path, durable=durable)
    await db.open()
    return SqliteStorage(db)
