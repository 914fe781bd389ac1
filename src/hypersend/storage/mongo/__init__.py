"""The MongoDB backend, on PyMongo's async API; chosen when `MONGODB_URI` is set.

Install it with `pip install "hypersend[mongodb]"`. It needs no replica set: every update
that requests can race on is a single-document atomic operation (a conditional update, an
`$inc`, or an insert guarded by a unique index).
"""

from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from hypersend.storage.interface import (
    ChatRepository,
    FileRepository,
    InviteRepository,
    MessageRepository,
    SessionRepository,
    TransferRepository,
    UserRepository,
)
from hypersend.storage.mongo.chats import MongoChats
from hypersend.storage.mongo.documents import Document
from hypersend.storage.mongo.files import MongoFiles
from hypersend.storage.mongo.indexes import ensure_indexes
from hypersend.storage.mongo.invites import MongoInvites
from hypersend.storage.mongo.messages import MongoMessages
from hypersend.storage.mongo.numbering import number_old_messages
from hypersend.storage.mongo.search_upgrade import index_old_messages
from hypersend.storage.mongo.sessions import MongoSessions
from hypersend.storage.mongo.transfers import MongoTransfers
from hypersend.storage.mongo.users import MongoUsers


class MongoStorage:
    def __init__(self, client: AsyncMongoClient[Document], db: AsyncDatabase[Document]) -> None:
        self._client = client
        self.db = db
        self.users: UserRepository = MongoUsers(db)
        self.sessions: SessionRepository = MongoSessions(db)
        self.invites: InviteRepository = MongoInvites(db)
        self.chats: ChatRepository = MongoChats(db)
        self.messages: MessageRepository = MongoMessages(db)
        self.files: FileRepository = MongoFiles(db)
        self.transfers: TransferRepository = MongoTransfers(db)

    @classmethod
    async def connect(cls, client: AsyncMongoClient[Document], database: str) -> "MongoStorage":
        """Use `client`'s `database`, creating its indexes (idempotent)."""
        db = client[database]
        await number_old_messages(db)
        await index_old_messages(db)
        await ensure_indexes(db)
        return cls(client, db)

    async def ping(self) -> None:
        await self.db.command("ping")

    async def close(self) -> None:
        await self._client.close()


async def open_mongo_storage(uri: str, database: str) -> MongoStorage:
    client: AsyncMongoClient[Document] = AsyncMongoClient(
        uri, tz_aware=True, serverSelectionTimeoutMS=10_000, appname="hypersend"
    )
    return await MongoStorage.connect(client, database)
