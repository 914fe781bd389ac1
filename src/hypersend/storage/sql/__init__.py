"""The repositories both SQL engines share, over any `SqlDatabase`."""

from hypersend.storage.interface import (
    ChatRepository,
    FileRepository,
    InviteRepository,
    MessageRepository,
    SessionRepository,
    TransferRepository,
    UserRepository,
)
from hypersend.storage.sql.chats import SqlChats
from hypersend.storage.sql.database import SqlDatabase
from hypersend.storage.sql.files import SqlFiles
from hypersend.storage.sql.invites import SqlInvites
from hypersend.storage.sql.messages import SqlMessages
from hypersend.storage.sql.sessions import SqlSessions
from hypersend.storage.sql.transfers import SqlTransfers
from hypersend.storage.sql.users import SqlUsers


class SqlStorage:
    def __init__(self, db: SqlDatabase) -> None:
        self.db = db
        self.users: UserRepository = SqlUsers(db)
        self.sessions: SessionRepository = SqlSessions(db)
        self.invites: InviteRepository = SqlInvites(db)
        self.chats: ChatRepository = SqlChats(db)
        self.messages: MessageRepository = SqlMessages(db)
        self.files: FileRepository = SqlFiles(db)
        self.transfers: TransferRepository = SqlTransfers(db)

    async def ping(self) -> None:
        await self.db.read(lambda c: c.execute("SELECT 1").fetchone())

    async def close(self) -> None:
        await self.db.close()
