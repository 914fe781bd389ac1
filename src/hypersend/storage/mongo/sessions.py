"""Sign-in sessions in MongoDB."""

from datetime import datetime

from hypersend.storage.models import Session
from hypersend.storage.mongo.documents import (
    Database,
    session_doc,
    to_session,
)


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
