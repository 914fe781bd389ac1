"""Numbering the messages of chats stored before messages had a `seq` (an upgrade, run at
start-up before the indexes are built; it does nothing once every chat has its numbers).

Each chat's messages are numbered 1, 2, ... in id order (the order they were shown in until
then), its `last_seq` set last, so an interrupted run is simply run again.
"""

from pymongo import ASCENDING, UpdateOne

from hypersend.storage.mongo.documents import Database

BATCH = 1000


async def number_old_messages(db: Database) -> int:
    """Number the messages of every chat that has no `last_seq`; return how many chats."""
    chats = 0
    async for chat in db["chats"].find({"last_seq": {"$exists": False}}, {"_id": 1}):
        await _number_chat(db, chat["_id"])
        chats += 1
    return chats


async def _number_chat(db: Database, chat_id: str) -> None:
    seq_of: dict[str, int] = {}
    updates: list[UpdateOne] = []
    cursor = db["messages"].find({"chat_id": chat_id}, {"_id": 1}).sort("_id", ASCENDING)
    async for message in cursor:
        seq_of[message["_id"]] = len(seq_of) + 1
        updates.append(UpdateOne({"_id": message["_id"]}, {"$set": {"seq": len(seq_of)}}))
        if len(updates) == BATCH:
            await db["messages"].bulk_write(updates, ordered=False)
            updates = []
    if updates:
        await db["messages"].bulk_write(updates, ordered=False)
    async for member in db["chat_members"].find({"chat_id": chat_id}):
        pointer = member.get("last_read_message_id")
        await db["chat_members"].update_one(
            {"_id": member["_id"]}, {"$set": {"last_read_seq": seq_of.get(pointer or "", 0)}}
        )
    await db["chats"].update_one({"_id": chat_id}, {"$set": {"last_seq": len(seq_of)}})
