"""P2P transfer metadata in MongoDB."""

from datetime import datetime

from pymongo import DESCENDING

from hypersend.storage.models import Transfer
from hypersend.storage.mongo.documents import Database, Document, to_transfer, transfer_doc

OPEN = ["offered", "active"]


class MongoTransfers:
    def __init__(self, db: Database) -> None:
        self._transfers = db["transfers"]

    async def create(self, transfer: Transfer) -> None:
        await self._transfers.insert_one(transfer_doc(transfer))

    async def get(self, transfer_id: str) -> Transfer | None:
        doc = await self._transfers.find_one({"_id": transfer_id})
        return to_transfer(doc) if doc else None

    async def set_status(
        self, transfer_id: str, status: str, *, only_from: tuple[str, ...], reason: str = ""
    ) -> bool:
        result = await self._transfers.update_one(
            {"_id": transfer_id, "status": {"$in": list(only_from)}},
            {"$set": {"status": status, "reason": reason}},
        )
        return result.matched_count == 1

    async def activate(
        self, transfer_id: str, *, relay_node: str, only_from: tuple[str, ...]
    ) -> bool:
        result = await self._transfers.update_one(
            {"_id": transfer_id, "status": {"$in": list(only_from)}},
            {"$set": {"status": "active", "reason": "", "relay_node": relay_node}},
        )
        return result.matched_count == 1

    async def set_progress(self, transfer_id: str, bytes_relayed: int) -> None:
        await self._transfers.update_one(
            {"_id": transfer_id}, {"$set": {"bytes_relayed": bytes_relayed}}
        )

    async def list_for_user(
        self, user_id: str, *, chat_id: str | None, open_only: bool, limit: int
    ) -> list[Transfer]:
        query: Document = {"$or": [{"sender_id": user_id}, {"receiver_id": user_id}]}
        if chat_id is not None:
            query["chat_id"] = chat_id
        if open_only:
            query["status"] = {"$in": OPEN}
        cursor = self._transfers.find(query).sort("_id", DESCENDING).limit(limit)
        return [to_transfer(doc) async for doc in cursor]

    async def relay_nodes(self) -> set[str]:
        nodes = await self._transfers.distinct("relay_node", {"status": "active"})
        return {node for node in nodes if isinstance(node, str)}

    async def fail_relayed_by(self, relay_nodes: list[str], reason: str) -> int:
        result = await self._transfers.update_many(
            {"status": "active", "relay_node": {"$in": relay_nodes}},
            {"$set": {"status": "failed", "reason": reason}},
        )
        return result.modified_count

    async def expire_offers(self, now: datetime) -> list[Transfer]:
        expired: list[Transfer] = []
        async for doc in self._transfers.find({"status": "offered", "expires_at": {"$lt": now}}):
            result = await self._transfers.update_one(
                {"_id": doc["_id"], "status": "offered"},
                {"$set": {"status": "expired", "reason": "offer expired"}},
            )
            if result.modified_count:
                expired.append(to_transfer(doc))
        return expired
