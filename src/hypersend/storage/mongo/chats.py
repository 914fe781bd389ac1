"""Chats and their members in MongoDB."""

from datetime import datetime

from pymongo import DESCENDING
from pymongo.errors import DuplicateKeyError

from hypersend.clock import utcnow
from hypersend.storage.errors import DuplicateError
from hypersend.storage.models import (
    Chat,
    ChatMember,
    ChatSummary,
)
from hypersend.storage.mongo.documents import (
    Database,
    Document,
    chat_doc,
    member_doc,
    to_chat,
)
from hypersend.storage.mongo.lookups import Lookups


class MongoChats:
    def __init__(self, db: Database) -> None:
        self._chats = db["chats"]
        self._members = db["chat_members"]
        self._messages = db["messages"]
        self._read = Lookups(db)

    async def create(self, chat: Chat, member_ids: list[str]) -> None:
        try:
            await self._chats.insert_one(chat_doc(chat))
        except DuplicateKeyError as exc:
            raise DuplicateError(f"direct chat {chat.direct_key} exists") from exc
        await self._members.insert_many(
            [member_doc(chat.id, user_id, chat.created_at) for user_id in dict.fromkeys(member_ids)]
        )

    async def get(self, chat_id: str) -> Chat | None:
        doc = await self._chats.find_one({"_id": chat_id})
        return to_chat(doc) if doc else None

    async def get_direct(self, direct_key: str) -> Chat | None:
        doc = await self._chats.find_one({"direct_key": direct_key})
        return to_chat(doc) if doc else None

    async def members(self, chat_id: str) -> list[ChatMember]:
        return await self._read.members({"chat_id": chat_id})

    async def member(self, chat_id: str, user_id: str) -> ChatMember | None:
        found = await self._read.members({"chat_id": chat_id, "user_id": user_id})
        return found[0] if found else None

    async def contacts(self, user_id: str) -> list[str]:
        chats = await self._members.distinct("chat_id", {"user_id": user_id})
        together = {"chat_id": {"$in": chats}, "user_id": {"$ne": user_id}}
        return list(await self._members.distinct("user_id", together))

    async def share_a_chat(self, user_id: str, other_id: str) -> bool:
        chats = await self._members.distinct("chat_id", {"user_id": user_id})
        together = {"user_id": other_id, "chat_id": {"$in": chats}}
        return await self._members.count_documents(together, limit=1) > 0

    async def add_member(self, chat_id: str, user_id: str) -> bool:
        now = utcnow()
        try:
            await self._members.insert_one(member_doc(chat_id, user_id, now))
        except DuplicateKeyError:
            return False
        await self._chats.update_one({"_id": chat_id}, {"$set": {"updated_at": now}})
        return True

    async def remove_member(self, chat_id: str, user_id: str) -> bool:
        result = await self._members.delete_one({"chat_id": chat_id, "user_id": user_id})
        return result.deleted_count == 1

    async def touch(self, chat_id: str) -> None:
        await self._chats.update_one({"_id": chat_id}, {"$set": {"updated_at": utcnow()}})

    async def list_for_user(self, user_id: str) -> list[ChatSummary]:
        return await self._summaries(user_id, None)

    async def summary(self, chat_id: str, user_id: str) -> ChatSummary | None:
        found = await self._summaries(user_id, chat_id)
        return found[0] if found else None

    async def set_pinned(self, chat_id: str, user_id: str, pinned_at: datetime | None) -> None:
        await self._members.update_one(
            {"chat_id": chat_id, "user_id": user_id}, {"$set": {"pinned_at": pinned_at}}
        )

    async def set_muted(self, chat_id: str, user_id: str, muted: bool) -> None:
        await self._members.update_one(
            {"chat_id": chat_id, "user_id": user_id}, {"$set": {"muted": muted}}
        )

    async def pinned_count(self, user_id: str) -> int:
        return await self._members.count_documents(
            {"user_id": user_id, "pinned_at": {"$type": "date"}}
        )

    async def advance_read_pointer(self, chat_id: str, user_id: str, message_id: str) -> str:
        message = await self._messages.find_one({"_id": message_id, "chat_id": chat_id})
        if message is not None:
            await self._members.update_one(
                {"chat_id": chat_id, "user_id": user_id, "last_read_seq": {"$lt": message["seq"]}},
                {"$set": {"last_read_message_id": message_id, "last_read_seq": message["seq"]}},
            )
        doc = await self._members.find_one({"chat_id": chat_id, "user_id": user_id})
        return (
            str(doc["last_read_message_id"]) if doc and doc["last_read_message_id"] else message_id
        )

    async def _summaries(self, user_id: str, chat_id: str | None) -> list[ChatSummary]:
        """A user's chat list (or one chat of it) in a constant number of queries."""
        mine: Document = {"user_id": user_id}
        if chat_id is not None:
            mine["chat_id"] = chat_id
        read_pointers = {
            doc["chat_id"]: doc["last_read_seq"]
            async for doc in self._members.find(mine, {"chat_id": 1, "last_read_seq": 1})
        }
        if not read_pointers:
            return []
        chat_ids = list(read_pointers)
        chats = await (
            self._chats.find({"_id": {"$in": chat_ids}})
            .sort([("updated_at", DESCENDING), ("_id", DESCENDING)])
            .to_list()
        )
        members_by_chat: dict[str, list[ChatMember]] = {chat_id: [] for chat_id in chat_ids}
        for member in await self._read.members({"chat_id": {"$in": chat_ids}}):
            members_by_chat[member.chat_id].append(member)
        last_ids = [chat["last_message_id"] for chat in chats if chat["last_message_id"]]
        last_docs = await self._messages.find({"_id": {"$in": last_ids}}).to_list()
        last_messages = {message.id: message for message in await self._read.messages(last_docs)}
        unread = await self._unread_counts(user_id, read_pointers)
        return [
            ChatSummary(
                chat=to_chat(chat),
                members=members_by_chat[chat["_id"]],
                last_message=last_messages.get(chat["last_message_id"] or ""),
                unread_count=unread.get(chat["_id"], 0),
            )
            for chat in chats
        ]

    async def _unread_counts(self, user_id: str, read_pointers: dict[str, int]) -> dict[str, int]:
        after_pointer = [
            {"chat_id": chat_id, "seq": {"$gt": pointer}}
            for chat_id, pointer in read_pointers.items()
        ]
        cursor = await self._messages.aggregate(
            [
                {"$match": {"$or": after_pointer, "sender_id": {"$ne": user_id}, "deleted": False}},
                {"$group": {"_id": "$chat_id", "unread": {"$sum": 1}}},
            ]
        )
        return {doc["_id"]: doc["unread"] async for doc in cursor}
