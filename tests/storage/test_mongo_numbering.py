"""What only the MongoDB backend does: number the messages of chats stored before numbers."""

from datetime import UTC, datetime

from hypersend.storage.mongo import MongoStorage
from tests.support.mongo_fake import fake_mongo_client


async def test_messages_stored_before_numbering_are_numbered_in_id_order() -> None:
    client = fake_mongo_client()
    db = client["upgrade"]
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    await db["chats"].insert_one(
        {"_id": "c1", "type": "group", "title": "", "created_by": "u1", "created_at": moment,
         "updated_at": moment, "last_message_id": "m3"}
    )  # fmt: skip
    await db["chat_members"].insert_many(
        [
            {"_id": f"c1/{user}", "chat_id": "c1", "user_id": user, "joined_at": moment,
             "last_read_message_id": pointer}
            for user, pointer in (("u1", None), ("u2", "m2"))
        ]
    )  # fmt: skip
    await db["messages"].insert_many(
        [
            {"_id": message_id, "chat_id": "c1", "sender_id": "u1", "kind": "text",
             "text": message_id, "file_id": None, "client_id": None, "created_at": moment,
             "deleted": False}
            for message_id in ("m3", "m1", "m2")
        ]
    )  # fmt: skip

    storage = await MongoStorage.connect(client, "upgrade")
    page = await storage.messages.page_before("c1", None, 10)
    assert page is not None
    assert [(m.id, m.seq) for m in page.messages] == [("m1", 1), ("m2", 2), ("m3", 3)]
    member = await storage.chats.member("c1", "u2")
    assert member is not None
    assert member.last_read_seq == 2
    chat = await db["chats"].find_one({"_id": "c1"})
    assert chat is not None
    assert chat["last_seq"] == 3
    again = await MongoStorage.connect(client, "upgrade")  # nothing left to number
    assert (await again.messages.page_after("c1", "m1", 10)) is not None
    await storage.close()
