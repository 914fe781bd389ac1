"""What chats and messages read alike in MongoDB: members' names, files' refs."""

from pymongo import ASCENDING

from hypersend.storage.models import (
    ChatMember,
    FileRef,
    Message,
    Quote,
)
from hypersend.storage.mongo.documents import (
    Database,
    Document,
    to_member,
    to_message,
)

MEMBER_ORDER = [("joined_at", ASCENDING), ("user_id", ASCENDING)]


class Lookups:
    """Lookups that chats and messages share: names of members, refs of files."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def names(self, user_ids: set[str]) -> dict[str, str]:
        cursor = self.db["users"].find({"_id": {"$in": list(user_ids)}}, {"name": 1})
        return {doc["_id"]: doc["name"] async for doc in cursor}

    async def members(self, query: Document) -> list[ChatMember]:
        docs = await self.db["chat_members"].find(query).sort(MEMBER_ORDER).to_list()
        names = await self.names({doc["user_id"] for doc in docs})
        return [to_member(doc, names.get(doc["user_id"], "")) for doc in docs]

    async def messages(self, docs: list[Document]) -> list[Message]:
        reply_ids = list({doc["reply_to_id"] for doc in docs if doc.get("reply_to_id")})
        replied: list[Document] = []
        if reply_ids:
            fields = {"sender_id": 1, "text": 1, "file_id": 1, "deleted": 1}
            replied = await self.db["messages"].find({"_id": {"$in": reply_ids}}, fields).to_list()
        files = await self._files(
            [doc["file_id"] for doc in [*docs, *replied] if doc.get("file_id")]
        )
        quotes = {
            doc["_id"]: Quote(
                message_id=doc["_id"],
                sender_id=doc["sender_id"],
                text=doc["text"],
                file_name=files[doc["file_id"]].filename if doc["file_id"] in files else None,
                deleted=doc["deleted"],
            )
            for doc in replied
        }
        return [to_message(doc, files, quotes) for doc in docs]

    async def _files(self, file_ids: list[str]) -> dict[str, FileRef]:
        if not file_ids:
            return {}
        cursor = self.db["files"].find(
            {"_id": {"$in": file_ids}},
            {"filename": 1, "size": 1, "mime": 1, "has_thumbnail": 1},
        )
        return {
            doc["_id"]: FileRef(
                doc["_id"],
                doc["filename"],
                doc["size"],
                doc["mime"],
                has_thumbnail=doc.get("has_thumbnail", False),
            )
            async for doc in cursor
        }
