"""Every access path's index, created at startup (creating an existing index is a no-op)."""

from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase

INDEXES: dict[str, list[IndexModel]] = {
    "users": [
        IndexModel("email", unique=True),
        IndexModel([("name_key", ASCENDING), ("_id", ASCENDING)]),
    ],
    "sessions": [
        IndexModel("user_id"),
        IndexModel("expires_at", expireAfterSeconds=0),  # MongoDB drops ended sessions
    ],
    "invites": [
        IndexModel([("created_at", DESCENDING)]),
        IndexModel("expires_at", expireAfterSeconds=7 * 24 * 3600),  # kept a week for admins
    ],
    "chats": [
        IndexModel("direct_key", unique=True, sparse=True),  # only direct chats have one
    ],
    "chat_members": [
        IndexModel([("chat_id", ASCENDING), ("user_id", ASCENDING)], unique=True),
        IndexModel([("user_id", ASCENDING), ("chat_id", ASCENDING)]),
    ],
    "messages": [
        IndexModel([("chat_id", ASCENDING), ("seq", ASCENDING)], unique=True),
        IndexModel("client_key", unique=True, sparse=True),  # sender/client_id, when sent
        IndexModel("file_id", partialFilterExpression={"file_id": {"$type": "string"}}),
        IndexModel([("search_words", ASCENDING), ("created_at", DESCENDING)]),
    ],
    "files": [
        IndexModel([("owner_id", ASCENDING), ("status", ASCENDING)]),
        IndexModel([("status", ASCENDING), ("expires_at", ASCENDING)]),
        IndexModel([("status", ASCENDING), ("completed_at", ASCENDING)]),
        IndexModel("thumbnail_due", partialFilterExpression={"thumbnail_due": True}),
    ],
    "file_chunks": [
        IndexModel([("file_id", ASCENDING), ("idx", ASCENDING)], unique=True),
    ],
    "transfers": [
        IndexModel([("status", ASCENDING), ("expires_at", ASCENDING)]),
        IndexModel([("sender_id", ASCENDING), ("_id", DESCENDING)]),
        IndexModel([("receiver_id", ASCENDING), ("_id", DESCENDING)]),
        IndexModel([("status", ASCENDING), ("relay_node", ASCENDING)]),
    ],
}


async def ensure_indexes(db: AsyncDatabase[dict[str, Any]]) -> None:
    for collection, indexes in INDEXES.items():
        await db[collection].create_indexes(indexes)
