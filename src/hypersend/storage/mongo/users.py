"""Users in MongoDB."""

import re
from datetime import datetime

from pymongo import ASCENDING
from pymongo.errors import DuplicateKeyError

from hypersend.storage.errors import DuplicateError
from hypersend.storage.models import User
from hypersend.storage.mongo.documents import (
    Database,
    Document,
    to_user,
    user_doc,
)


class MongoUsers:
    def __init__(self, db: Database) -> None:
        self._users = db["users"]
        self._claims = db["claims"]
        self._members = db["chat_members"]

    async def create(self, user: User) -> None:
        try:
            await self._users.insert_one(user_doc(user))
        except DuplicateKeyError as exc:
            raise DuplicateError(f"email {user.email!r} is taken") from exc

    async def create_first(self, user: User) -> bool:
        """Exactly one caller claims the first account (a unique `_id` in `claims`), however
        many processes try at once; the claim is given back if the insert fails."""
        if await self._users.count_documents({}, limit=1):
            return False
        try:
            await self._claims.insert_one({"_id": "first_account", "user_id": user.id})
        except DuplicateKeyError:
            return False
        try:
            await self.create(user)
        except BaseException:
            await self._claims.delete_one({"_id": "first_account", "user_id": user.id})
            raise
        return True

    async def get(self, user_id: str) -> User | None:
        doc = await self._users.find_one({"_id": user_id})
        return to_user(doc) if doc else None

    async def get_by_email(self, email: str) -> User | None:
        doc = await self._users.find_one({"email": email})
        return to_user(doc) if doc else None

    async def search(
        self, text: str, *, limit: int, exclude_id: str, contacts_of: str | None = None
    ) -> list[User]:
        pattern = {"$regex": re.escape(text.lower()), "$options": "i"}
        ids: Document = {"$ne": exclude_id}
        if contacts_of is not None:
            chats = await self._members.distinct("chat_id", {"user_id": contacts_of})
            ids["$in"] = await self._members.distinct("user_id", {"chat_id": {"$in": chats}})
        cursor = (
            self._users.find(
                {
                    "_id": ids,
                    "disabled": False,
                    "$or": [{"name_key": pattern}, {"email": pattern}],
                }
            )
            .sort([("name_key", ASCENDING), ("_id", ASCENDING)])
            .limit(limit)
        )
        return [to_user(doc) async for doc in cursor]

    async def get_many(self, user_ids: list[str]) -> list[User]:
        if not user_ids:
            return []
        return [to_user(doc) async for doc in self._users.find({"_id": {"$in": user_ids}})]

    async def count(self) -> int:
        return await self._users.count_documents({})

    async def set_password_hash(self, user_id: str, password_hash: str) -> None:
        await self._users.update_one({"_id": user_id}, {"$set": {"password_hash": password_hash}})

    async def update(self, user: User) -> None:
        changes = user_doc(user)
        for fixed in ("_id", "email", "created_at", "last_seen_at"):
            del changes[fixed]
        await self._users.update_one({"_id": user.id}, {"$set": changes})

    async def set_last_seen(self, user_id: str, moment: datetime) -> None:
        await self._users.update_one({"_id": user_id}, {"$set": {"last_seen_at": moment}})

    async def list_page(self, *, after: str | None, limit: int) -> list[User]:
        cursor = self._users.find({"_id": {"$gt": after or ""}}).sort("_id", ASCENDING).limit(limit)
        return [to_user(doc) async for doc in cursor]
