"""Chats, their members and their messages in MongoDB."""

from dataclasses import replace
from datetime import datetime, timedelta

from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.errors import DuplicateKeyError

from hypersend.clock import utcnow
from hypersend.storage.errors import DuplicateError
from hypersend.storage.models import (
    Chat,
    ChatMember,
    ChatSummary,
    FileRef,
    Message,
    MessagePage,
    Quote,
)
from hypersend.storage.mongo.documents import (
    Database,
    Document,
    chat_doc,
    client_key,
    member_doc,
    message_doc,
    to_chat,
    to_member,
    to_message,
)

MEMBER_ORDER = [("joined_at", ASCENDING), ("user_id", ASCENDING)]

IN_FLIGHT = timedelta(seconds=10)
"""How long a number may have been handed out before its message is written; longer, the
write failed and the number stays unused."""


def _before_a_gap_in_flight(docs: list[Document], after: int, settled: datetime) -> list[Document]:
    """The messages (in `seq` order, after number `after`) up to the first missing number whose
    message may still be on its way: one written after `settled` follows the gap. A reader
    paging forward then asks again and gets it, instead of skipping past it for good."""
    expected = after + 1
    for position, doc in enumerate(docs):
        if doc["seq"] != expected and doc["created_at"] > settled:
            return docs[:position]
        expected = doc["seq"] + 1
    return docs


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
            {"_id": {"$in": file_ids}}, {"filename": 1, "size": 1, "mime": 1}
        )
        return {
            doc["_id"]: FileRef(doc["_id"], doc["filename"], doc["size"], doc["mime"])
            async for doc in cursor
        }


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


class MongoMessages:
    def __init__(self, db: Database) -> None:
        self._messages = db["messages"]
        self._chats = db["chats"]
        self._read = Lookups(db)

    async def create(self, message: Message) -> tuple[Message, bool]:
        """The chat hands out the next number atomically; the message is written after it.
        Without a transaction two writers' messages can become visible out of number order
        for an instant (PostgreSQL and SQLite cannot do that), and a number is skipped when
        the write then fails. Paging forward waits for such a gap while it may still be
        filled (`IN_FLIGHT`), so a reader never steps past a message still being written."""
        if message.client_id is not None:
            existing = await self._by_client_id(message)
            if existing is not None:
                return existing, False
        chat = await self._chats.find_one_and_update(
            {"_id": message.chat_id},
            {
                "$inc": {"last_seq": 1},
                "$set": {"updated_at": message.created_at, "last_message_id": message.id},
            },
            projection={"last_seq": 1},
            return_document=ReturnDocument.AFTER,
        )
        numbered = replace(message, seq=chat["last_seq"] if chat else 0)
        try:
            await self._messages.insert_one(message_doc(numbered))
        except DuplicateKeyError:  # the same client_id, sent at the same moment
            existing = await self._by_client_id(message)
            assert existing is not None
            return existing, False
        return numbered, True

    async def get(self, message_id: str) -> Message | None:
        doc = await self._messages.find_one({"_id": message_id})
        return (await self._read.messages([doc]))[0] if doc else None

    async def page_before(self, chat_id: str, before: str | None, limit: int) -> MessagePage | None:
        query: Document = {"chat_id": chat_id}
        if before is not None:
            seq = await self._seq_of(chat_id, before)
            if seq is None:
                return None
            query["seq"] = {"$lt": seq}
        docs = await self._messages.find(query).sort("seq", DESCENDING).limit(limit + 1).to_list()
        page = await self._read.messages(docs[:limit])
        page.reverse()
        return MessagePage(page, has_more=len(docs) > limit)

    async def page_after(self, chat_id: str, after: str, limit: int) -> MessagePage | None:
        seq = await self._seq_of(chat_id, after)
        if seq is None:
            return None
        docs = await (
            self._messages.find({"chat_id": chat_id, "seq": {"$gt": seq}})
            .sort("seq", ASCENDING)
            .limit(limit + 1)
            .to_list()
        )
        complete = _before_a_gap_in_flight(docs, seq, utcnow() - IN_FLIGHT)
        return MessagePage(
            await self._read.messages(complete[:limit]), has_more=len(docs) > len(complete[:limit])
        )

    async def _seq_of(self, chat_id: str, message_id: str) -> int | None:
        doc = await self._messages.find_one({"_id": message_id, "chat_id": chat_id}, {"seq": 1})
        return int(doc["seq"]) if doc else None

    async def edit_text(self, message_id: str, text: str, edited_at: datetime) -> bool:
        result = await self._messages.update_one(
            {"_id": message_id, "kind": "text", "deleted": False},
            {"$set": {"text": text, "edited_at": edited_at}},
        )
        return result.matched_count == 1

    async def mark_deleted(self, message_id: str) -> None:
        await self._messages.update_one(
            {"_id": message_id}, {"$set": {"deleted": True, "text": None, "file_id": None}}
        )

    async def _by_client_id(self, message: Message) -> Message | None:
        assert message.client_id is not None
        doc = await self._messages.find_one(
            {"client_key": client_key(message.sender_id, message.client_id)}
        )
        return (await self._read.messages([doc]))[0] if doc else None
