"""Sending, paging, reading, editing and deleting messages."""

import asyncio
from pathlib import Path

import pytest

from hypersend.client import Chat, HyperSendClient, InvalidInput, NotFoundError, PermissionDenied
from tests.support.accounts import signed_in
from tests.support.files import random_file
from tests.support.server import ServerProcess


@pytest.fixture
async def chat(alice: HyperSendClient, bob: HyperSendClient) -> Chat:
    return await alice.open_direct_chat((await bob.me()).id)


async def test_sent_message_has_the_contract_shape(alice: HyperSendClient, chat: Chat) -> None:
    data = await alice.api.json("POST", "/messages/", json={"chat_id": chat.id, "text": "hello"})
    assert set(data) == {
        "id",
        "chat_id",
        "sender_id",
        "kind",
        "text",
        "file",
        "created_at",
        "deleted",
        "edited_at",
        "reply_to",
        "client_id",
        "reactions",
    }
    assert data["edited_at"] is None
    assert data["reply_to"] is None
    assert data["kind"] == "text"
    assert data["client_id"] is None
    assert data["file"] is None
    assert data["deleted"] is False
    assert data["sender_id"] == (await alice.me()).id


async def test_the_same_client_id_returns_the_first_message(
    alice: HyperSendClient, chat: Chat
) -> None:
    first, *retries = await asyncio.gather(
        *[alice.send_message(chat.id, "once", client_id="retry-me") for _ in range(3)]
    )
    assert {m.id for m in retries} == {first.id}
    assert first.client_id == "retry-me"
    page = await alice.messages(chat.id)
    assert [m.text for m in page.messages].count("once") == 1


@pytest.mark.parametrize(
    "body",
    [
        {"text": ""},
        {"text": "   \n"},
        {"text": "x" * 4097},
        {},
        {"text": "both", "file_id": "01FILE"},
        {"text": 42},
    ],
)
async def test_bad_messages_are_422(
    alice: HyperSendClient, chat: Chat, body: dict[str, object]
) -> None:
    with pytest.raises(InvalidInput) as caught:
        await alice.api.json("POST", "/messages/", json={"chat_id": chat.id, **body})
    assert caught.value.status == 422
    assert (await alice.messages(chat.id)).messages == []


async def test_text_at_the_limit_is_accepted(alice: HyperSendClient, chat: Chat) -> None:
    message = await alice.send_message(chat.id, "é" * 4096)
    assert message.text == "é" * 4096


async def test_paging_backwards_and_catching_up_forwards(
    alice: HyperSendClient, bob: HyperSendClient, chat: Chat
) -> None:
    sent = [await alice.send_message(chat.id, f"m{i}") for i in range(7)]

    newest = await bob.messages(chat.id, limit=3)
    assert [m.text for m in newest.messages] == ["m4", "m5", "m6"]
    assert newest.has_more
    older = await bob.messages(chat.id, before=newest.messages[0].id, limit=3)
    assert [m.text for m in older.messages] == ["m1", "m2", "m3"]
    oldest = await bob.messages(chat.id, before=older.messages[0].id, limit=3)
    assert [m.text for m in oldest.messages] == ["m0"]
    assert not oldest.has_more

    after = await bob.messages(chat.id, after=sent[2].id, limit=2)
    assert [m.text for m in after.messages] == ["m3", "m4"]
    assert after.has_more
    rest = await bob.messages(chat.id, after=after.messages[-1].id, limit=10)
    assert [m.text for m in rest.messages] == ["m5", "m6"]
    assert not rest.has_more


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 101}, {"limit": "x"}])
async def test_bad_page_parameters_are_422(
    alice: HyperSendClient, chat: Chat, params: dict[str, object]
) -> None:
    with pytest.raises(InvalidInput):
        await alice.api.json("GET", f"/chats/{chat.id}/messages", params=params)


async def test_read_pointer_moves_forward_only_and_drives_unread_counts(
    alice: HyperSendClient, bob: HyperSendClient, chat: Chat
) -> None:
    sent = [await alice.send_message(chat.id, f"r{i}") for i in range(4)]

    def unread(chats: list[Chat]) -> int:
        return next(c.unread_count for c in chats if c.id == chat.id)

    assert unread(await bob.list_chats()) == 4
    assert await bob.mark_read(sent[2].id) == sent[2].id
    assert unread(await bob.list_chats()) == 1
    assert await bob.mark_read(sent[0].id) == sent[2].id
    assert unread(await bob.list_chats()) == 1

    bob_id = (await bob.me()).id
    members = {m.id: m for m in (await alice.get_chat(chat.id)).members}
    assert members[bob_id].last_read_message_id == sent[2].id


async def test_only_the_sender_deletes_and_members_see_a_tombstone(
    alice: HyperSendClient, bob: HyperSendClient, carol: HyperSendClient, chat: Chat
) -> None:
    message = await alice.send_message(chat.id, "oops")
    with pytest.raises(PermissionDenied):
        await bob.delete_message(message.id)
    with pytest.raises(NotFoundError):
        await carol.delete_message(message.id)
    with pytest.raises(NotFoundError):
        await carol.mark_read(message.id)

    await alice.delete_message(message.id)
    (seen,) = (await bob.messages(chat.id)).messages
    assert seen.deleted
    assert seen.text is None
    listed = next(c for c in await bob.list_chats() if c.id == chat.id)
    assert listed.last_message is not None
    assert listed.last_message.deleted
    assert listed.unread_count == 0


async def test_unknown_message_ids_are_404(alice: HyperSendClient) -> None:
    with pytest.raises(NotFoundError):
        await alice.delete_message("01NOSUCHMESSAGE00000000000")
    with pytest.raises(NotFoundError):
        await alice.mark_read("01NOSUCHMESSAGE00000000000")


async def test_the_sender_edits_a_text_and_every_member_sees_it_live(
    alice: HyperSendClient, bob: HyperSendClient, chat: Chat
) -> None:
    message = await alice.send_message(chat.id, "see you at 5")
    async with await bob.connect_events() as bob_events:
        edited = await alice.edit_message(message.id, "see you at 6")
        async with asyncio.timeout(5):
            while (event := await bob_events.next())["type"] != "message.updated":
                pass
    assert edited.text == "see you at 6"
    assert edited.edited_at is not None
    assert edited.edited_at >= message.created_at
    assert event["message"]["id"] == message.id
    assert event["message"]["text"] == "see you at 6"
    assert event["message"]["edited_at"] is not None
    (seen,) = [m for m in (await bob.messages(chat.id)).messages if m.id == message.id]
    assert (seen.text, seen.edited_at) == ("see you at 6", edited.edited_at)


async def test_only_the_sender_edits_only_live_text_messages(
    alice: HyperSendClient,
    bob: HyperSendClient,
    carol: HyperSendClient,
    chat: Chat,
    tmp_path: Path,
) -> None:
    message = await alice.send_message(chat.id, "mine")
    with pytest.raises(PermissionDenied) as not_theirs:
        await bob.edit_message(message.id, "ours now")
    assert not_theirs.value.code == "not_the_sender"
    with pytest.raises(NotFoundError):  # not in the chat: not even told it exists
        await carol.edit_message(message.id, "hello")
    with pytest.raises(NotFoundError):
        await alice.edit_message("01NOSUCHMESSAGE00000000000", "hello")
    for text in ("", "   ", "x" * 5000):
        with pytest.raises(InvalidInput):
            await alice.edit_message(message.id, text)
    info = await alice.upload_file(random_file(tmp_path / "a.bin", 100), state_dir=tmp_path)
    posted = await alice.send_message(chat.id, file_id=info.file_id)
    with pytest.raises(PermissionDenied):
        await alice.edit_message(posted.id, "a caption")
    await alice.delete_message(message.id)
    with pytest.raises(PermissionDenied):
        await alice.edit_message(message.id, "back from the dead")
    (tombstone,) = [m for m in (await bob.messages(chat.id)).messages if m.id == message.id]
    assert tombstone.text is None


async def test_edits_end_with_the_edit_window(own_server: ServerProcess) -> None:
    own_server.env["MESSAGE_EDIT_HOURS"] = "0.0003"  # about a second
    own_server.start()
    async with (
        await signed_in(own_server.url, "Ann") as ann,
        await signed_in(own_server.url, "Ben") as ben,
    ):
        chat = await ann.open_direct_chat((await ben.me()).id)
        message = await ann.send_message(chat.id, "typo")
        assert (await ann.edit_message(message.id, "typo fixed")).text == "typo fixed"
        await asyncio.sleep(1.5)
        with pytest.raises(PermissionDenied) as late:
            await ann.edit_message(message.id, "too late")
        assert late.value.code == "edit_window_passed"
        assert "after it was sent" in str(late.value)


async def test_a_reply_quotes_its_message_until_that_is_deleted(
    alice: HyperSendClient, bob: HyperSendClient, chat: Chat, tmp_path: Path
) -> None:
    question = await alice.send_message(chat.id, "lunch at noon?\nor at one")
    async with await alice.connect_events() as alice_events:
        answer = await bob.send_message(chat.id, "noon", reply_to=question.id)
        async with asyncio.timeout(5):
            while (event := await alice_events.next())["type"] != "message.created":
                pass
    me = (await alice.me()).id
    assert answer.reply_to is not None
    assert (answer.reply_to.id, answer.reply_to.sender_id) == (question.id, me)
    assert answer.reply_to.preview == "lunch at noon?"  # its first line
    assert event["message"]["reply_to"] == {
        "id": question.id,
        "sender_id": me,
        "preview": "lunch at noon?",
    }
    info = await alice.upload_file(random_file(tmp_path / "menu.pdf", 100), state_dir=tmp_path)
    menu = await alice.send_message(chat.id, file_id=info.file_id)
    about_menu = await bob.send_message(chat.id, "looks good", reply_to=menu.id)
    assert about_menu.reply_to is not None
    assert about_menu.reply_to.preview == "menu.pdf"

    await alice.delete_message(question.id)
    page = {m.id: m for m in (await alice.messages(chat.id)).messages}
    quoted = page[answer.id].reply_to
    assert quoted is not None
    assert (quoted.id, quoted.preview) == (question.id, None)  # "deleted message"
    assert page[about_menu.id].reply_to == about_menu.reply_to
    listed = next(c for c in await alice.list_chats() if c.id == chat.id)
    assert listed.last_message is not None
    assert listed.last_message.reply_to == about_menu.reply_to


async def test_a_reply_must_answer_a_message_of_its_own_chat(
    alice: HyperSendClient, bob: HyperSendClient, carol: HyperSendClient, chat: Chat
) -> None:
    elsewhere = await alice.open_direct_chat((await carol.me()).id)
    other = await alice.send_message(elsewhere.id, "not for bob")
    for reply_to in (other.id, "01NOSUCHMESSAGE00000000000"):
        with pytest.raises(InvalidInput) as refused:
            await bob.send_message(chat.id, "hm", reply_to=reply_to)
        assert "reply_to must be a message of this chat" in str(refused.value)


async def test_forwarding_posts_the_text_or_the_same_file_into_another_chat(
    alice: HyperSendClient, bob: HyperSendClient, carol: HyperSendClient, chat: Chat, tmp_path: Path
) -> None:
    with_carol = await bob.open_direct_chat((await carol.me()).id)
    text = await alice.send_message(chat.id, "meet at the station")
    source = random_file(tmp_path / "ticket.pdf", 2000)
    info = await alice.upload_file(source, state_dir=tmp_path)
    ticket = await alice.send_message(chat.id, file_id=info.file_id)
    async with await carol.connect_events() as carol_events:
        passed_on = await bob.forward_message(text.id, with_carol.id)
        async with asyncio.timeout(5):
            while (event := await carol_events.next())["type"] != "message.created":
                pass
    assert event["message"]["id"] == passed_on.id
    assert (passed_on.chat_id, passed_on.sender_id) == (with_carol.id, (await bob.me()).id)
    assert passed_on.text == "meet at the station"
    forwarded = await bob.forward_message(ticket.id, with_carol.id)
    assert forwarded.file is not None
    assert forwarded.file.id == info.file_id  # the same file, not a copy
    copy = await carol.download_file(info.file_id, tmp_path / "carol.pdf")
    assert copy.read_bytes() == source.read_bytes()


async def test_forwarding_needs_both_chats_and_a_live_message(
    alice: HyperSendClient, bob: HyperSendClient, carol: HyperSendClient, chat: Chat
) -> None:
    with_carol = await alice.open_direct_chat((await carol.me()).id)
    message = await alice.send_message(chat.id, "between us")
    with pytest.raises(NotFoundError):  # carol cannot see it
        await carol.forward_message(message.id, with_carol.id)
    with pytest.raises(NotFoundError):  # bob is not in alice and carol's chat
        await bob.forward_message(message.id, with_carol.id)
    await alice.delete_message(message.id)
    with pytest.raises(InvalidInput):
        await alice.forward_message(message.id, with_carol.id)
