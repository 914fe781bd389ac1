"""What only the MongoDB backend does: number the messages of chats stored before numbers,
and page forward without stepping past a message that is still being written."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypersend.clock import utcnow
from hypersend.storage.mongo import MongoStorage
from hypersend.storage.mongo.documents import message_doc
from tests.storage.factories import make_chat, make_message, make_user
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
    found = await storage.messages.search("u2", ["m2"], chat_id=None, before=None, limit=5)
    assert found is not None  # words were given to the messages stored before search
    assert [m.id for m in found.messages] == ["m2"]
    again = await MongoStorage.connect(client, "upgrade")  # nothing left to number
    assert (await again.messages.page_after("c1", "m1", 10)) is not None
    await storage.close()


async def test_paging_forward_waits_for_a_number_whose_message_is_still_being_written() -> None:
    """Two writers: one took number 2 and has not written its message yet, the other took 3
    and has. A reader after 1 gets nothing yet (not 3, which would skip 2 for good); once 2
    is written, both. A number whose write failed long ago is passed over."""
    storage = await MongoStorage.connect(fake_mongo_client(), "gaps")
    ann = make_user("Ann")
    await storage.users.create(ann)
    chat = make_chat(ann, title="busy")
    await storage.chats.create(chat, [ann.id])
    first, _ = await storage.messages.create(make_message(chat, ann, "one"))
    await storage.db["chats"].update_one({"_id": chat.id}, {"$inc": {"last_seq": 1}})  # 2: taken
    third, _ = await storage.messages.create(make_message(chat, ann, "three"))
    assert third.seq == 3

    waiting = await storage.messages.page_after(chat.id, first.id, 10)
    assert waiting is not None
    assert (waiting.messages, waiting.has_more) == ([], True)

    late = replace(make_message(chat, ann, "two"), seq=2)
    await storage.db["messages"].insert_one(message_doc(late))
    caught_up = await storage.messages.page_after(chat.id, first.id, 10)
    assert caught_up is not None
    assert [m.text for m in caught_up.messages] == ["two", "three"]

    await storage.db["chats"].update_one({"_id": chat.id}, {"$inc": {"last_seq": 1}})  # 4: failed
    old = utcnow() - timedelta(minutes=1)
    fifth = replace(make_message(chat, ann, "five"), seq=5, created_at=old)
    await storage.db["messages"].insert_one(message_doc(fifth))
    passed_over = await storage.messages.page_after(chat.id, third.id, 10)
    assert passed_over is not None
    assert [m.text for m in passed_over.messages] == ["five"]
    await storage.close()
