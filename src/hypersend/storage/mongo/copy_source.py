"""MongoDB as the source of `hypersend migrate`: every collection in id order, page by page.
MongoDB gives no snapshot across collections without a replica set: stop the server first."""

from collections.abc import AsyncIterator, Callable
from typing import TypeVar

from pymongo import ASCENDING

from hypersend.storage.copying import PAGE_SIZE, TABLES, ChatRecord, ChunkRecord, ThumbnailRecord
from hypersend.storage.models import (
    ChatMember,
    FileRecord,
    Invite,
    Message,
    Session,
    Thumbnail,
    Transfer,
    User,
)
from hypersend.storage.mongo.documents import (
    Database,
    Document,
    to_chat,
    to_file,
    to_invite,
    to_member,
    to_session,
    to_transfer,
    to_user,
)
from hypersend.storage.mongo.lookups import Lookups

R = TypeVar("R")


class MongoCopySource:
    def __init__(self, db: Database, *, page_size: int = PAGE_SIZE) -> None:
        self._db = db
        self._page_size = page_size
        self._lookups = Lookups(db)

    async def counts(self) -> dict[str, int]:
        return {table: await self._db[table].count_documents({}) for table in TABLES}

    def users(self) -> AsyncIterator[list[User]]:
        return self._converted("users", to_user)

    def sessions(self) -> AsyncIterator[list[Session]]:
        return self._converted("sessions", to_session)

    def invites(self) -> AsyncIterator[list[Invite]]:
        return self._converted("invites", to_invite)

    def chats(self) -> AsyncIterator[list[ChatRecord]]:
        return self._converted(
            "chats",
            lambda doc: ChatRecord(to_chat(doc), doc["last_message_id"], doc.get("last_seq", 0)),
        )

    def chat_members(self) -> AsyncIterator[list[ChatMember]]:
        return self._converted("chat_members", lambda doc: to_member(doc, ""))

    def files(self) -> AsyncIterator[list[FileRecord]]:
        return self._converted("files", to_file)

    def file_chunks(self) -> AsyncIterator[list[ChunkRecord]]:
        return self._converted(
            "file_chunks", lambda doc: ChunkRecord(doc["file_id"], doc["idx"], doc["sha256"])
        )

    def thumbnails(self) -> AsyncIterator[list[ThumbnailRecord]]:
        return self._converted(
            "thumbnails",
            lambda doc: ThumbnailRecord(doc["_id"], Thumbnail(doc["mime"], bytes(doc["data"]))),
        )

    async def messages(self) -> AsyncIterator[list[Message]]:
        async for page in self._documents("messages"):
            yield await self._lookups.messages(page)

    def transfers(self) -> AsyncIterator[list[Transfer]]:
        return self._converted("transfers", to_transfer)

    async def _converted(
        self, collection: str, convert: Callable[[Document], R]
    ) -> AsyncIterator[list[R]]:
        async for page in self._documents(collection):
            yield [convert(doc) for doc in page]

    async def _documents(self, collection: str) -> AsyncIterator[list[Document]]:
        page: list[Document] = []
        async for doc in self._db[collection].find({}).sort("_id", ASCENDING):
            page.append(doc)
            if len(page) == self._page_size:
                yield page
                page = []
        if page:
            yield page
