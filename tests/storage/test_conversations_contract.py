import asyncio
from collections.abc import Callable
from dataclasses import replace

import pytest

from hypersend.clock import utcnow
from hypersend.storage import Storage
from hypersend.storage.errors import DuplicateError
from hypersend.storage.models import Chat, Message, Quote, Reaction, Reactions, User
from tests.storage.factories import make_chat, make_file, make_message, make_user


async def users(storage: Storage, *names: str) -> list[User]:
    made = [make_user(name) for name in names]
    for user in made:
        await storage.users.create(user)
    return made


async def test_direct_chats_are_unique_per_pair(storage: Storage) -> None:
    ann, ben = await users(storage, "Ann", "Ben")
    chat = make_chat(ann, direct_key="ann:ben")
    await storage.chats.create(chat, [ann.id, ben.id])
    with pytest.raises(DuplicateError):
        await storage.chats.create(make_chat(ben, direct_key="ann:ben"), [ann.id, ben.id])
    assert await storage.chats.get_direct("ann:ben") == chat
    assert await storage.chats.get(chat.id) == chat
    # Group chats have no direct key, and many of them may exist.
    await storage.chats.create(make_chat(ann, title="one"), [ann.id])
    await storage.chats.create(make_chat(ann, title="two"), [ann.id])


async def test_membership(storage: Storage) -> None:
    ann, ben, cid = await users(storage, "Ann", "Ben", "Cid")
    chat = make_chat(ann, title="Trip")
    await storage.chats.create(chat, [ann.id, ben.id, ben.id])
    assert [m.user_id for m in await storage.chats.members(chat.id)] == [ann.id, ben.id]
    assert await storage.chats.add_member(chat.id, cid.id)
    assert not await storage.chats.add_member(chat.id, cid.id)
    member = await storage.chats.member(chat.id, cid.id)
    assert member is not None
    assert member.name == "Cid"
    assert await storage.chats.remove_member(chat.id, ben.id)
    assert not await storage.chats.remove_member(chat.id, ben.id)
    assert await storage.chats.member(chat.id, ben.id) is None


async def test_chat_list_has_previews_unread_counts_and_newest_first(storage: Storage) -> None:
    ann, ben = await users(storage, "Ann", "Ben")
    older = make_chat(ann, title="older")
    newer = make_chat(ann, title="newer")
    await storage.chats.create(older, [ann.id, ben.id])
    await storage.chats.create(newer, [ann.id, ben.id])
    first, _ = await storage.messages.create(make_message(older, ben, "one"))
    second, _ = await storage.messages.create(make_message(older, ben, "two"))
    await storage.messages.create(make_message(older, ann, "mine"))
    await storage.messages.create(make_message(newer, ann, "latest"))

    listed = await storage.chats.list_for_user(ben.id)
    assert [s.chat.id for s in listed] == [newer.id, older.id]
    assert listed[0].last_message is not None
    assert listed[0].last_message.text == "latest"
    assert [s.unread_count for s in listed] == [1, 1]
    assert {m.name for m in listed[1].members} == {"Ann", "Ben"}

    ann_view = await storage.chats.summary(older.id, ann.id)
    assert ann_view is not None
    assert ann_view.unread_count == 2
    assert await storage.chats.advance_read_pointer(older.id, ann.id, first.id) == first.id
    assert await storage.chats.advance_read_pointer(older.id, ann.id, second.id) == second.id
    assert await storage.chats.advance_read_pointer(older.id, ann.id, first.id) == second.id
    after = await storage.chats.summary(older.id, ann.id)
    assert after is not None
    assert after.unread_count == 0
    assert await storage.chats.summary(older.id, make_user().id) is None


async def test_message_pages_and_idempotent_send(storage: Storage) -> None:
    ann, ben = await users(storage, "Ann", "Ben")
    chat = make_chat(ann, title="log")
    await storage.chats.create(chat, [ann.id, ben.id])
    sent = [(await storage.messages.create(make_message(chat, ann, f"m{i}")))[0] for i in range(5)]

    assert [m.seq for m in sent] == [1, 2, 3, 4, 5]
    newest = await storage.messages.page_before(chat.id, None, 2)
    assert newest is not None
    assert [m.text for m in newest.messages] == ["m3", "m4"]
    assert newest.has_more
    older = await storage.messages.page_before(chat.id, newest.messages[0].id, 10)
    assert older is not None
    assert [m.text for m in older.messages] == ["m0", "m1", "m2"]
    assert not older.has_more
    after = await storage.messages.page_after(chat.id, sent[1].id, 2)
    assert after is not None
    assert [m.text for m in after.messages] == ["m2", "m3"]
    assert after.has_more

    once, created = await storage.messages.create(make_message(chat, ben, "x", client_id="k"))
    again, created_again = await storage.messages.create(
        make_message(chat, ben, "x", client_id="k")
    )
    assert created
    assert not created_again
    assert again == once
    other, created_other = await storage.messages.create(
        make_message(chat, ann, "x", client_id="k")
    )
    assert created_other
    assert other.id != once.id


async def test_messages_are_numbered_in_the_order_they_were_written(storage: Storage) -> None:
    """Ids made on several machines are only roughly time-ordered: a message written later
    can carry a smaller id. Paging, read pointers and unread counts follow the numbers."""
    ann, ben = await users(storage, "Ann", "Ben")
    chat = make_chat(ann, title="order")
    await storage.chats.create(chat, [ann.id, ben.id])
    ids = ["01J0000000000000000000000C", "01J0000000000000000000000B", "01J0000000000000000000000A"]
    written = [
        (await storage.messages.create(replace(make_message(chat, ann, f"w{n}"), id=ids[n])))[0]
        for n in range(3)
    ]
    assert [m.seq for m in written] == [1, 2, 3]
    after_first = await storage.messages.page_after(chat.id, written[0].id, 10)
    assert after_first is not None
    assert [m.text for m in after_first.messages] == ["w1", "w2"]
    whole = await storage.messages.page_before(chat.id, None, 10)
    assert whole is not None
    assert [m.text for m in whole.messages] == ["w0", "w1", "w2"]
    before_last = await storage.messages.page_before(chat.id, written[2].id, 10)
    assert before_last is not None
    assert [m.text for m in before_last.messages] == ["w0", "w1"]

    assert await storage.chats.advance_read_pointer(chat.id, ben.id, written[1].id) == ids[1]
    assert await storage.chats.advance_read_pointer(chat.id, ben.id, written[0].id) == ids[1]
    summary = await storage.chats.summary(chat.id, ben.id)
    assert summary is not None
    assert summary.unread_count == 1
    assert summary.last_message is not None
    assert summary.last_message.text == "w2"
    member = await storage.chats.member(chat.id, ben.id)
    assert member is not None
    assert member.last_read_seq == 2


async def test_paging_from_a_message_of_another_chat_finds_nothing(storage: Storage) -> None:
    (ann,) = await users(storage, "Ann")
    here, there = make_chat(ann, title="here"), make_chat(ann, title="there")
    await storage.chats.create(here, [ann.id])
    await storage.chats.create(there, [ann.id])
    elsewhere, _ = await storage.messages.create(make_message(there, ann, "elsewhere"))
    assert await storage.messages.page_after(here.id, elsewhere.id, 10) is None
    assert await storage.messages.page_before(here.id, elsewhere.id, 10) is None
    assert await storage.messages.page_after(here.id, "01J00000000000000000000000", 10) is None


async def test_deleted_messages_stay_as_tombstones_and_show_their_file(storage: Storage) -> None:
    (ann,) = await users(storage, "Ann")
    chat = make_chat(ann, title="files")
    await storage.chats.create(chat, [ann.id])
    record = make_file(ann, chat=chat)
    await storage.files.create(record)
    message = replace(make_message(chat, ann, ""), kind="file", text=None, file=record.ref)
    await storage.messages.create(message)
    stored = await storage.messages.get(message.id)
    assert stored is not None
    assert stored.file == record.ref
    await storage.messages.mark_deleted(message.id)
    tombstone = await storage.messages.get(message.id)
    assert tombstone is not None
    assert tombstone.deleted
    assert tombstone.file is None
    assert tombstone.text is None


async def test_only_live_text_messages_are_edited(storage: Storage) -> None:
    (ann,) = await users(storage, "Ann")
    chat = make_chat(ann, title="edits")
    await storage.chats.create(chat, [ann.id])
    message, _ = await storage.messages.create(make_message(chat, ann, "draft"))
    assert message.edited_at is None
    when = utcnow()
    assert await storage.messages.edit_text(message.id, "final", when)
    edited = await storage.messages.get(message.id)
    assert edited is not None
    assert (edited.text, edited.seq) == ("final", message.seq)
    assert edited.edited_at is not None
    assert abs((edited.edited_at - when).total_seconds()) < 0.001
    page = await storage.messages.page_before(chat.id, None, 10)
    assert page is not None
    assert [(m.text, m.edited_at) for m in page.messages] == [("final", edited.edited_at)]
    await storage.messages.mark_deleted(message.id)
    assert not await storage.messages.edit_text(message.id, "again", utcnow())
    assert not await storage.messages.edit_text("01NOSUCHMESSAGE00000000000", "x", utcnow())
    record = make_file(ann, chat=chat)
    await storage.files.create(record)
    posted = replace(make_message(chat, ann, ""), kind="file", text=None, file=record.ref)
    await storage.messages.create(posted)
    assert not await storage.messages.edit_text(posted.id, "a caption", utcnow())


async def test_a_reply_is_read_with_its_quote_as_that_message_is_now(storage: Storage) -> None:
    ann, ben = await users(storage, "Ann", "Ben")
    chat = make_chat(ann, title="replies")
    await storage.chats.create(chat, [ann.id, ben.id])
    record = make_file(ann, chat=chat)
    await storage.files.create(record)
    question, _ = await storage.messages.create(make_message(chat, ann, "why?"))
    posted = replace(make_message(chat, ann, ""), kind="file", text=None, file=record.ref)
    await storage.messages.create(posted)
    answer, _ = await storage.messages.create(
        replace(make_message(chat, ben, "because"), reply_to_id=question.id)
    )
    on_file, _ = await storage.messages.create(
        replace(make_message(chat, ben, "nice file"), reply_to_id=posted.id)
    )
    stored = await storage.messages.get(answer.id)
    assert stored is not None
    assert stored.reply_to_id == question.id
    assert stored.quote == Quote(question.id, ann.id, "why?", None, False)
    page = await storage.messages.page_before(chat.id, None, 10)
    assert page is not None
    quotes = {m.id: m.quote for m in page.messages}
    assert quotes[question.id] is None
    assert quotes[on_file.id] == Quote(posted.id, ann.id, None, record.filename, False)
    await storage.messages.mark_deleted(question.id)
    after = await storage.messages.get(answer.id)
    assert after is not None
    assert after.quote == Quote(question.id, ann.id, None, None, True)
    summary = await storage.chats.summary(chat.id, ben.id)
    assert summary is not None
    assert summary.last_message is not None
    assert summary.last_message.quote == quotes[on_file.id]


async def test_reactions_change_atomically_and_go_with_the_message(storage: Storage) -> None:
    ann, ben = await users(storage, "Ann", "Ben")
    chat = make_chat(ann, title="reactions")
    await storage.chats.create(chat, [ann.id, ben.id])
    message, _ = await storage.messages.create(make_message(chat, ann, "party?"))
    assert message.reactions == ()

    def add(user_id: str, emoji: str) -> Callable[[Reactions], Reactions]:
        def change(reactions: Reactions) -> Reactions:
            for reaction in reactions:
                if reaction.emoji == emoji:
                    others = tuple(r for r in reactions if r.emoji != emoji)
                    return (*others, Reaction(emoji, (*reaction.user_ids, user_id)))
            return (*reactions, Reaction(emoji, (user_id,)))

        return change

    # Many writers at once: each sees what the one before wrote, none is lost.
    people = [f"user-{n}" for n in range(12)]
    await asyncio.gather(
        *[storage.messages.change_reactions(message.id, add(p, "🎉")) for p in people]
    )
    changed = await storage.messages.change_reactions(message.id, add(ben.id, "👍🏽"))
    assert changed is not None
    assert [r.emoji for r in changed.reactions] == ["🎉", "👍🏽"]
    assert sorted(changed.reactions[0].user_ids) == sorted(people)
    assert changed.reactions[1].user_ids == (ben.id,)
    page = await storage.messages.page_before(chat.id, None, 10)
    assert page is not None
    assert page.messages[0].reactions == changed.reactions
    (summary,) = await storage.chats.list_for_user(ann.id)
    assert summary.last_message is not None
    assert summary.last_message.reactions == changed.reactions

    def refuse(reactions: Reactions) -> Reactions:
        raise LookupError("no more")

    with pytest.raises(LookupError):
        await storage.messages.change_reactions(message.id, refuse)
    assert (await storage.messages.get(message.id)) == changed  # nothing written

    cleared = await storage.messages.change_reactions(message.id, lambda reactions: ())
    assert cleared is not None
    assert cleared.reactions == ()
    await storage.messages.change_reactions(message.id, add(ann.id, "❤️"))
    await storage.messages.mark_deleted(message.id)
    tombstone = await storage.messages.get(message.id)
    assert tombstone is not None
    assert tombstone.reactions == ()
    assert await storage.messages.change_reactions(message.id, add(ann.id, "❤️")) is None
    assert (
        await storage.messages.change_reactions("01NOSUCHMESSAGE00000000000", add(ann.id, "❤️"))
        is None
    )


async def test_search_finds_words_of_texts_and_file_names_in_ones_chats(storage: Storage) -> None:
    ann, ben, cid = await users(storage, "Ann", "Ben", "Cid")
    ours = make_chat(ann, title="ours")
    theirs = make_chat(ben, title="theirs")
    await storage.chats.create(ours, [ann.id, ben.id])
    await storage.chats.create(theirs, [ben.id, cid.id])

    async def say(chat: Chat, sender: User, text: str) -> Message:
        message, _ = await storage.messages.create(make_message(chat, sender, text))
        return message

    async def found(user: User, *prefixes: str, chat_id: str | None = None) -> list[str]:
        page = await storage.messages.search(
            user.id, list(prefixes), chat_id=chat_id, before=None, limit=50
        )
        assert page is not None
        return [m.text or (m.file.filename if m.file else "") for m in page.messages]

    await say(ours, ann, "Quarterly report is ready")
    await say(ours, ben, "Thanks! Reporting back tomorrow")
    await say(theirs, ben, "The report for Cid only")
    await say(ours, ann, "Ünïcode café Grüße")
    record = replace(make_file(ann, chat=ours), filename="Budget-2027.xlsx")
    await storage.files.create(record)
    posted = replace(make_message(ours, ann, ""), kind="file", text=None, file=record.ref)
    await storage.messages.create(posted)

    assert await found(ann, "report") == [
        "Thanks! Reporting back tomorrow",
        "Quarterly report is ready",
    ]
    assert await found(ben, "report") == [
        "The report for Cid only",
        "Thanks! Reporting back tomorrow",
        "Quarterly report is ready",
    ]
    assert await found(ben, "report", chat_id=theirs.id) == ["The report for Cid only"]
    assert await found(ann, "report", chat_id=theirs.id) == []  # not her chat
    assert await found(ann, "report", "ready") == ["Quarterly report is ready"]  # every word
    assert await found(ann, "budget") == ["Budget-2027.xlsx"]
    assert await found(ann, "2027") == ["Budget-2027.xlsx"]
    assert await found(ann, "grüße") == ["Ünïcode café Grüße"]
    assert await found(ann, "café") == ["Ünïcode café Grüße"]
    for keyword in ("not", "or", "and", "near", "or:*"):  # the engines' query syntax: words
        assert await found(ann, keyword) == []

    quarterly = await storage.messages.search(
        ann.id, ["quarterly"], chat_id=None, before=None, limit=1
    )
    assert quarterly is not None
    (first,) = quarterly.messages
    assert await storage.messages.edit_text(first.id, "Annual summary is ready", utcnow())
    assert await found(ann, "quarterly") == []
    assert await found(ann, "annual") == ["Annual summary is ready"]
    await storage.messages.mark_deleted(first.id)
    await storage.messages.mark_deleted(posted.id)
    assert await found(ann, "annual") == []
    assert await found(ann, "budget") == []


async def test_search_pages_newest_first(storage: Storage) -> None:
    ann, ben = await users(storage, "Ann", "Ben")
    chat = make_chat(ann, title="log")
    await storage.chats.create(chat, [ann.id])
    said = [
        (await storage.messages.create(make_message(chat, ann, f"entry {n}")))[0] for n in range(7)
    ]
    seen: list[str] = []
    before = None
    while True:
        page = await storage.messages.search(
            ann.id, ["entry"], chat_id=None, before=before, limit=3
        )
        assert page is not None
        seen += [m.id for m in page.messages]
        if not page.has_more:
            break
        before = page.messages[-1].id
    assert seen == [m.id for m in reversed(said)]
    stranger = await storage.messages.search(
        ben.id, ["entry"], chat_id=None, before=said[3].id, limit=3
    )
    assert stranger is None  # paging from a message one cannot see


async def test_each_member_pins_and_mutes_for_themselves(storage: Storage) -> None:
    ann, ben = await users(storage, "Ann", "Ben")
    chat = make_chat(ann, title="pins")
    await storage.chats.create(chat, [ann.id, ben.id])
    when = utcnow()
    await storage.chats.set_pinned(chat.id, ann.id, when)
    await storage.chats.set_muted(chat.id, ann.id, True)
    ann_member = await storage.chats.member(chat.id, ann.id)
    ben_member = await storage.chats.member(chat.id, ben.id)
    assert ann_member is not None
    assert ben_member is not None
    assert ann_member.pinned_at is not None
    assert abs((ann_member.pinned_at - when).total_seconds()) < 0.001
    assert ann_member.muted
    assert (ben_member.pinned_at, ben_member.muted) == (None, False)
    assert await storage.chats.pinned_count(ann.id) == 1
    assert await storage.chats.pinned_count(ben.id) == 0
    (summary,) = await storage.chats.list_for_user(ann.id)
    assert summary.pinned_at(ann.id) == ann_member.pinned_at
    assert summary.pinned_at(ben.id) is None
    await storage.chats.set_pinned(chat.id, ann.id, None)
    await storage.chats.set_muted(chat.id, ann.id, False)
    assert await storage.chats.pinned_count(ann.id) == 0
    unpinned = await storage.chats.member(chat.id, ann.id)
    assert unpinned is not None
    assert (unpinned.pinned_at, unpinned.muted) == (None, False)


async def test_contacts_are_everyone_sharing_a_chat(storage: Storage) -> None:
    ann, ben, cid, dee = await users(storage, "Ann", "Ben", "Cid", "Dee")
    await storage.chats.create(make_chat(ann, title="one"), [ann.id, ben.id])
    await storage.chats.create(make_chat(ann, title="two"), [ann.id, ben.id, cid.id])
    await storage.chats.create(make_chat(dee, title="alone"), [dee.id])
    assert sorted(await storage.chats.contacts(ann.id)) == sorted([ben.id, cid.id])
    assert sorted(await storage.chats.contacts(cid.id)) == sorted([ann.id, ben.id])
    assert await storage.chats.contacts(dee.id) == []
