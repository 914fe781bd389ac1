"""Users, sessions and invites in MongoDB."""

import re
from datetime import datetime

from pymongo import ASCENDING, DESCENDING
from pymongo.errors import DuplicateKeyError

from hypersend.storage.errors import DuplicateError
from hypersend.storage.models import Invite, Session, User
from hypersend.storage.mongo.documents import (
    Database,
    Document,
    invite_doc,
    session_doc,
    to_invite,
    to_session,
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
        for fixed in ("_id", "email", "created_at"):
            del changes[fixed]
        await self._users.update_one({"_id": user.id}, {"$set": changes})

    async def list_page(self, *, after: str | None, limit: int) -> list[User]:
        cursor = self._users.find({"_id": {"$gt": after or ""}}).sort("_id", ASCENDING).limit(limit)
        return [to_user(doc) async for doc in cursor]


class MongoSessions:
    def __init__(self, db: Database) -> None:
        self._sessions = db["sessions"]

    async def create(self, session: Session) -> None:
        await self._sessions.insert_one(session_doc(session))

    async def get(self, session_id: str) -> Session | None:
        doc = await self._sessions.find_one({"_id": session_id})
        return to_session(doc) if doc else None

    async def rotate_refresh(
        self, session_id: str, *, from_generation: int, expires_at: datetime
    ) -> bool:
        result = await self._sessions.update_one(
            {"_id": session_id, "refresh_generation": from_generation, "revoked": False},
            {"$inc": {"refresh_generation": 1}, "$set": {"expires_at": expires_at}},
        )
        return result.modified_count == 1

    async def revoke(self, session_id: str) -> None:
        await self._sessions.update_one({"_id": session_id}, {"$set": {"revoked": True}})

    async def revoke_all_for_user(self, user_id: str) -> None:
        await self._sessions.update_many({"user_id": user_id}, {"$set": {"revoked": True}})


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
