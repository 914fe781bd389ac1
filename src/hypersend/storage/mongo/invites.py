"""Invites in MongoDB."""

from datetime import datetime

from pymongo import DESCENDING

from hypersend.storage.models import Invite
from hypersend.storage.mongo.documents import (
    Database,
    invite_doc,
    to_invite,
)


class MongoInvites:
    def __init__(self, db: Database) -> None:
        self._invites = db["invites"]

    async def create(self, invite: Invite) -> None:
        await self._invites.insert_one(invite_doc(invite))

    async def get(self, code: str) -> Invite | None:
        doc = await self._invites.find_one({"_id": code})
        return to_invite(doc) if doc else None

    async def list_all(self) -> list[Invite]:
        cursor = self._invites.find().sort([("created_at", DESCENDING), ("_id", DESCENDING)])
        return [to_invite(doc) async for doc in cursor]

    async def delete(self, code: str) -> bool:
        return (await self._invites.delete_one({"_id": code})).deleted_count == 1

    async def use(self, code: str, now: datetime) -> bool:
        result = await self._invites.update_one(
            {"_id": code, "expires_at": {"$gt": now}, "$expr": {"$lt": ["$uses", "$max_uses"]}},
            {"$inc": {"uses": 1}},
        )
        return result.modified_count == 1

    async def release(self, code: str) -> None:
        await self._invites.update_one({"_id": code, "uses": {"$gt": 0}}, {"$inc": {"uses": -1}})
