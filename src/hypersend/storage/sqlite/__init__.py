"""The embedded backend: one SQLite file under `DATA_ROOT`."""

from pathlib import Path

from hypersend.storage.interface import (
    ChatRepository,
    FileRepository,
    InviteRepository,
    MessageRepository,
    SessionRepository,
    TransferRepository,
    UserRepository,
)
from hypersend.storage.sqlite.accounts import SqliteSessions, SqliteUsers
from hypersend.storage.sqlite.conversations import SqliteChats, SqliteMessages
from hypersend.storage.sqlite.database import SqliteDatabase
from hypersend.storage.sqlite.files import SqliteFiles
from hypersend.storage.sqlite.invites import SqliteInvites
from hypersend.storage.sqlite.transfers import SqliteTransfers


class SqliteStorage:
    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db
        self.users: UserRepository = SqliteUsers(db)
        self.sessions: SessionRepository = SqliteSessions(db)
        self.invites: InviteRepository = SqliteInvites(db)
        self.chats: ChatRepository = SqliteChats(db)
        self.messages: MessageRepository = SqliteMessages(db)
        self.files: FileRepository = SqliteFiles(db)
        self.transfers: TransferRepository = SqliteTransfers(db)

    async def ping(self) -> None:
        await self._db.read(lambda c: c.execute("SELECT 1").fetchone())

    async def close(self) -> None:
        await self._db.close()


async def open_sqlite_storage(path: Path, *, durable: bool) -> SqliteStorage:
    db = SqliteDatabase(path, durable=durable)
    await db.open()
    return SqliteStorage(db)
