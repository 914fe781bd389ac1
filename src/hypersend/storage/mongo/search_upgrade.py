"""Giving the messages stored before search their `search_words` (an upgrade run at start-up:
nothing to do once every message has them; an interrupted run is simply run again)."""

from pymongo import UpdateOne

from hypersend.storage.mongo.documents import Database, search_words

BATCH = 1000


async def index_old_messages(db: Database) -> int:
    """Give every message without `search_words` its words; return how many."""
    updates: list[UpdateOne] = []
    done = 0
    cursor = db["messages"].find(
        {"search_words": {"$exists": False}}, {"text": 1, "file_id": 1, "deleted": 1}
    )
    async for message in cursor:
        file_name = None
        if message.get("file_id") and not message.get("deleted"):
            file = await db["files"].find_one({"_id": message["file_id"]}, {"filename": 1})
            file_name = file["filename"] if file else None
        found = search_words(message.get("text"), file_name)
        updates.append(UpdateOne({"_id": message["_id"]}, {"$set": {"search_words": found}}))
        if len(updates) == BATCH:
            await db["messages"].bulk_write(updates, ordered=False)
            done, updates = done + len(updates), []
    if updates:
        await db["messages"].bulk_write(updates, ordered=False)
    return done + len(updates)
