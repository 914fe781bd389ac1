"""File records and their received chunks' digests in MongoDB."""

import contextlib
from datetime import datetime

from pymongo import ASCENDING
from pymongo.errors import DuplicateKeyError

from hypersend.clock import utcnow
from hypersend.content_hash import content_hash
from hypersend.storage.models import ChunkReceipt, FileRecord, Thumbnail
from hypersend.storage.mongo.documents import Database, chunk_doc, file_doc, to_file


class MongoFiles:
    def __init__(self, db: Database) -> None:
        self._files = db["files"]
        self._chunks = db["file_chunks"]
        self._members = db["chat_members"]
        self._messages = db["messages"]
        self._thumbnails = db["thumbnails"]

    async def create(self, record: FileRecord) -> None:
        await self._files.insert_one(file_doc(record))

    async def get(self, file_id: str) -> FileRecord | None:
        doc = await self._files.find_one({"_id": file_id})
        return to_file(doc) if doc else None

    async def chunk_digests(self, file_id: str) -> dict[int, bytes]:
        cursor = self._chunks.find({"file_id": file_id}, {"idx": 1, "sha256": 1})
        return {doc["idx"]: bytes(doc["sha256"]) async for doc in cursor}

    async def chunk_count(self, file_id: str) -> int:
        return await self._chunks.count_documents({"file_id": file_id})

    async def chunk_digest(self, file_id: str, index: int) -> bytes | None:
        doc = await self._chunks.find_one({"file_id": file_id, "idx": index}, {"sha256": 1})
        return bytes(doc["sha256"]) if doc else None

    async def record_chunk(
        self, file_id: str, index: int, digest: bytes, *, expires_at: datetime
    ) -> ChunkReceipt:
        # Counting the chunk rows (not keeping a counter) stays right after a crash between
        # the insert and anything that follows it.
        with contextlib.suppress(DuplicateKeyError):  # received before: harmless
            await self._chunks.insert_one(chunk_doc(file_id, index, digest))
        record = await self._files.find_one({"_id": file_id}, {"total_chunks": 1, "status": 1})
        received = await self.chunk_count(file_id)
        if record is None or record["status"] == "complete":
            return ChunkReceipt(received, True)
        if received < record["total_chunks"]:
            await self._files.update_one({"_id": file_id}, {"$set": {"expires_at": expires_at}})
            return ChunkReceipt(received, False)
        cursor = self._chunks.find({"file_id": file_id}, {"sha256": 1}).sort("idx", ASCENDING)
        digests = [bytes(doc["sha256"]) async for doc in cursor]
        await self._files.update_one(
            {"_id": file_id, "status": "uploading"},
            {
                "$set": {
                    "status": "complete",
                    "content_hash": content_hash(digests),
                    "completed_at": utcnow(),
                    "expires_at": None,
                }
            },
        )
        return ChunkReceipt(received, True)

    async def set_staged(
        self, file_id: str, index: int, length: int, *, expires_at: datetime
    ) -> None:
        await self._files.update_one(
            {"_id": file_id, "status": "uploading"},
            {"$set": {"staged_chunk": index, "staged_bytes": length, "expires_at": expires_at}},
        )

    async def put_thumbnail(self, file_id: str, thumbnail: Thumbnail) -> None:
        # The file's document says whether it has one, so messages read it with their file.
        if await self._files.find_one({"_id": file_id}, {"_id": 1}) is None:
            return
        with contextlib.suppress(DuplicateKeyError):  # made before: the first one stays
            await self._thumbnails.insert_one(
                {"_id": file_id, "mime": thumbnail.mime, "data": thumbnail.data}
            )
            if thumbnail.mime:
                await self._files.update_one({"_id": file_id}, {"$set": {"has_thumbnail": True}})
        await self._files.update_one({"_id": file_id}, {"$set": {"thumbnail_due": False}})
        if await self._files.find_one({"_id": file_id}, {"_id": 1}) is None:
            await self._thumbnails.delete_one({"_id": file_id})  # deleted meanwhile

    async def thumbnail(self, file_id: str) -> Thumbnail | None:
        doc = await self._thumbnails.find_one({"_id": file_id})
        return Thumbnail(doc["mime"], bytes(doc["data"])) if doc else None

    async def due_thumbnails(self, limit: int) -> list[FileRecord]:
        cursor = self._files.find({"thumbnail_due": True, "status": "complete"}).limit(limit)
        return [to_file(doc) async for doc in cursor]

    async def delete(self, file_id: str) -> bool:
        deleted = (await self._files.delete_one({"_id": file_id})).deleted_count == 1
        await self._chunks.delete_many({"file_id": file_id})
        await self._thumbnails.delete_one({"_id": file_id})
        return deleted

    async def bytes_used(self, owner_id: str) -> int:
        return (await self.bytes_used_by([owner_id])).get(owner_id, 0)

    async def bytes_uploading(self, owner_id: str) -> int:
        cursor = await self._files.aggregate(
            [
                {"$match": {"owner_id": owner_id, "status": "uploading"}},
                {"$group": {"_id": None, "size": {"$sum": "$size"}}},
            ]
        )
        return sum([int(doc["size"]) async for doc in cursor])

    async def bytes_used_by(self, owner_ids: list[str]) -> dict[str, int]:
        cursor = await self._files.aggregate(
            [
                {"$match": {"owner_id": {"$in": owner_ids}}},
                {"$group": {"_id": "$owner_id", "used": {"$sum": "$size"}}},
            ]
        )
        return {doc["_id"]: int(doc["used"]) async for doc in cursor}

    async def visible_to(self, file_id: str, user_id: str) -> bool:
        record = await self._files.find_one({"_id": file_id}, {"owner_id": 1, "chat_id": 1})
        if record is None:
            return False
        if record["owner_id"] == user_id:
            return True
        shared_in = set(await self._messages.distinct("chat_id", {"file_id": file_id}))
        if record["chat_id"]:
            shared_in.add(record["chat_id"])
        return bool(shared_in) and (
            await self._members.find_one({"chat_id": {"$in": list(shared_in)}, "user_id": user_id})
            is not None
        )

    async def unfinished_expiring_before(
        self, cutoff: datetime, limit: int, *, after_id: str = ""
    ) -> list[FileRecord]:
        cursor = (
            self._files.find(
                {"status": "uploading", "expires_at": {"$lt": cutoff}, "_id": {"$gt": after_id}}
            )
            .sort("_id", ASCENDING)
            .limit(limit)
        )
        return [to_file(doc) async for doc in cursor]

    async def completed_before(
        self, cutoff: datetime, limit: int, *, after_id: str = ""
    ) -> list[FileRecord]:
        cursor = (
            self._files.find(
                {"status": "complete", "completed_at": {"$lt": cutoff}, "_id": {"$gt": after_id}}
            )
            .sort("_id", ASCENDING)
            .limit(limit)
        )
        return [to_file(doc) async for doc in cursor]
