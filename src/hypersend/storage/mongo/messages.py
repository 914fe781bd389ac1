"""Messages in MongoDB, numbered per chat as they are written."""

import re
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.errors import DuplicateKeyError

from hypersend.clock import utcnow
from hypersend.storage.models import (
    Message,
    MessagePage,
    Reactions,
)
from hypersend.storage.mongo.documents import (
    Database,
    Document,
    client_key,
    message_doc,
    reactions_doc,
    search_words,
    to_reactions,
)
from hypersend.storage.mongo.lookups import Lookups

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


class MongoMessages:
    def __init__(self, db: Database) -> None:
        self._messages = db["messages"]
        self._chats = db["chats"]
        self._members = db["chat_members"]
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

    async def search(
        self,
        user_id: str,
        prefixes: list[str],
        *,
        chat_id: str | None,
        before: str | None,
        limit: int,
    ) -> MessagePage | None:
        chat_ids = await self._members.distinct("chat_id", {"user_id": user_id})
        if chat_id is not None:
            chat_ids = [chat_id] if chat_id in chat_ids else []
        query: Document = {
            "$and": [{"search_words": {"$regex": f"^{re.escape(p)}"}} for p in prefixes],
            "chat_id": {"$in": chat_ids},
            "deleted": False,
        }
        if before is not None:
            cursor = await self._messages.find_one(
                {"_id": before, "chat_id": {"$in": chat_ids}}, {"created_at": 1}
            )
            if cursor is None:
                return None
            query["$or"] = [
                {"created_at": {"$lt": cursor["created_at"]}},
                {"created_at": cursor["created_at"], "_id": {"$lt": before}},
            ]
        docs = await (
            self._messages.find(query)
            .sort([("created_at", DESCENDING), ("_id", DESCENDING)])
            .limit(limit + 1)
            .to_list()
        )
        return MessagePage(await self._read.messages(docs[:limit]), has_more=len(docs) > limit)

    async def _seq_of(self, chat_id: str, message_id: str) -> int | None:
        doc = await self._messages.find_one({"_id": message_id, "chat_id": chat_id}, {"seq": 1})
        return int(doc["seq"]) if doc else None

    async def edit_text(self, message_id: str, text: str, edited_at: datetime) -> Message | None:
        result = await self._messages.update_one(
            {"_id": message_id, "kind": "text", "deleted": False},
            {
                "$set": {
                    "text": text,
                    "edited_at": edited_at,
                    "search_words": search_words(text, None),
                }
            },
        )
        return await self.get(message_id) if result.matched_count == 1 else None

    async def change_reactions(
        self, message_id: str, change: Callable[[Reactions], Reactions]
    ) -> Message | None:
        # No transactions here: compare and swap. The write only lands when the reactions
        # are still those `change` was given; otherwise another writer came first: again.
        while True:
            doc = await self._messages.find_one(
                {"_id": message_id, "deleted": False}, {"reactions": 1}
            )
            if doc is None:
                return None
            current = doc.get("reactions")
            changed = reactions_doc(change(to_reactions(current)))
            result = await self._messages.update_one(
                {"_id": message_id, "deleted": False, "reactions": current},
                {"$set": {"reactions": changed}},
            )
            if result.matched_count == 1:
                return await self.get(message_id)

    async def mark_deleted(self, message_id: str) -> None:
        await self._messages.update_one(
            {"_id": message_id},
            {
                "$set": {
                    "deleted": True,
                    "text": None,
                    "file_id": None,
                    "reactions": [],
                    "search_words": [],
                }
            },
        )

    async def _by_client_id(self, message: Message) -> Message | None:
        assert message.client_id is not None
        doc = await self._messages.find_one(
            {"client_key": client_key(message.sender_id, message.client_id)}
        )
        return (await self._read.messages([doc]))[0] if doc else None
