"""MongoDB as the target of `hypersend migrate`: each page is one unordered bulk write of
upserts by id, so a copy run again finishes an interrupted one without duplicating anything."""

from pymongo import ReplaceOne

from hypersend.storage.copying import TABLES, ChatRecord, ChunkRecord, ThumbnailRecord
from hypersend.storage.models import (
    ChatMember,
    FileRecord,
    Invite,
    Message,
    Session,
    Transfer,
    User,
)
from hypersend.storage.mongo.documents import (
    Database,
    Document,
    chat_doc,
    chunk_doc,
    file_doc,
    invite_doc,
    member_doc,
    message_doc,
    session_doc,
    transfer_doc,
    user_doc,
)


class MongoCopyTarget:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def counts(self) -> dict[str, int]:
        return {table: await self._db[table].count_documents({}) for table in TABLES}

    async def user_ids(self) -> set[str]:
        return {doc["_id"] async for doc in self._db["users"].find({}, {"_id": 1})}

    async def put_users(self, page: list[User]) -> None:
        await self._put("users", [user_doc(user) for user in page])

    async def put_sessions(self, page: list[Session]) -> None:
        await self._put("sessions", [session_doc(session) for session in page])

    async def put_invites(self, page: list[Invite]) -> None:
        await self._put("invites", [invite_doc(invite) for invite in page])

    async def put_chats(self, page: list[ChatRecord]) -> None:
        await self._put(
            "chats",
            [
                chat_doc(r.chat) | {"last_message_id": r.last_message_id, "last_seq": r.last_seq}
                for r in page
            ],
        )

    async def put_chat_members(self, page: list[ChatMember]) -> None:
        await self._put(
            "chat_members",
            [
                member_doc(
                    m.chat_id,
                    m.user_id,
                    m.joined_at,
                    m.last_read_message_id,
                    m.last_read_seq,
                    m.pinned_at,
                    m.muted,
                )
                for m in page
            ],
        )

    async def put_files(self, page: list[FileRecord]) -> None:
        await self._put("files", [file_doc(record) for record in page])

    async def put_file_chunks(self, page: list[ChunkRecord]) -> None:
        await self._put("file_chunks", [chunk_doc(c.file_id, c.index, c.sha256) for c in page])

    async def put_thumbnails(self, page: list[ThumbnailRecord]) -> None:
        await self._put(
            "thumbnails",
            [{"_id": t.file_id, "mime": t.thumbnail.mime, "data": t.thumbnail.data} for t in page],
        )
        shown = [t.file_id for t in page if t.thumbnail.mime]
        if shown:
            await self._db["files"].update_many(
                {"_id": {"$in": shown}}, {"$set": {"has_thumbnail": True}}
            )

    async def put_messages(self, page: list[Message]) -> None:
        await self._put("messages", [message_doc(message) for message in page])

    async def put_transfers(self, page: list[Transfer]) -> None:
        await self._put("transfers", [transfer_doc(transfer) for transfer in page])

    async def _put(self, collection: str, documents: list[Document]) -> None:
        if documents:
            await self._db[collection].bulk_write(
                [ReplaceOne({"_id": doc["_id"]}, doc, upsert=True) for doc in documents],
                ordered=False,
            )
