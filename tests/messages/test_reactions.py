"""Emoji reactions: per-viewer `mine`, live updates, idempotence, limits and refusals."""

import asyncio
from contextlib import AsyncExitStack
from typing import Any

import pytest

from hypersend.client import (
    Chat,
    ConflictError,
    EventStream,
    HyperSendClient,
    InvalidInput,
    NotFoundError,
)
from hypersend.messages.reactions import MAX_EMOJI_PER_MESSAGE, MAX_REACTIONS_PER_USER
from tests.support.accounts import signed_in
from tests.support.server import ServerProcess


@pytest.fixture
async def chat(alice: HyperSendClient, bob: HyperSendClient) -> Chat:
    return await alice.open_direct_chat((await bob.me()).id)


async def next_update(events: EventStream) -> dict[str, Any]:
    async with asyncio.timeout(5):
        while (event := await events.next())["type"] != "message.updated":
            pass
    message: dict[str, Any] = event["message"]
    return message


async def test_reactions_count_who_and_mine_for_each_viewer_live(
    alice: HyperSendClient, bob: HyperSendClient, chat: Chat
) -> None:
    alice_id, bob_id = (await alice.me()).id, (await bob.me()).id
    message = await alice.send_message(chat.id, "we shipped it")
    async with (
        await alice.connect_events() as alice_events,
        await bob.connect_events() as bob_events,
    ):
        mine = await alice.react(message.id, "🎉")
        assert [(r.emoji, r.count, r.mine, r.user_ids) for r in mine.reactions] == [
            ("🎉", 1, True, (alice_id,))
        ]
        seen_by_bob = await next_update(bob_events)
        assert seen_by_bob["reactions"] == [
            {"emoji": "🎉", "count": 1, "mine": False, "user_ids": [alice_id]}
        ]
        assert (await next_update(alice_events))["reactions"][0]["mine"] is True

        both = await bob.react(message.id, "🎉")
        assert [(r.count, r.mine) for r in both.reactions] == [(2, True)]
        for events in (alice_events, bob_events):  # each sees their own as mine
            (reaction,) = (await next_update(events))["reactions"]
            assert (reaction["count"], reaction["mine"]) == (2, True)
            assert reaction["user_ids"] == [alice_id, bob_id]

    again = await bob.react(message.id, "🎉")  # idempotent
    assert [r.count for r in again.reactions] == [2]
    await bob.react(message.id, "👍🏽")
    page = {m.id: m for m in (await alice.messages(chat.id)).messages}
    assert [(r.emoji, r.count, r.mine) for r in page[message.id].reactions] == [
        ("🎉", 2, True),
        ("👍🏽", 1, False),
    ]
    listed = next(c for c in await bob.list_chats() if c.id == chat.id)
    assert listed.last_message is not None
    assert [(r.emoji, r.mine) for r in listed.last_message.reactions] == [
        ("🎉", True),
        ("👍🏽", True),
    ]

    taken = await alice.react(message.id, "🎉", remove=True)
    assert [(r.emoji, r.count, r.mine) for r in taken.reactions] == [
        ("🎉", 1, False),
        ("👍🏽", 1, False),
    ]
    assert (await alice.react(message.id, "🎉", remove=True)) == taken  # nothing to take
    gone = await bob.react(message.id, "🎉", remove=True)
    assert [r.emoji for r in gone.reactions] == ["👍🏽"]  # an emoji nobody has left goes


@pytest.mark.parametrize(
    "emoji",
    ["❤️", "👩‍👩‍👧‍👦", "🇺🇦", "#️⃣", "1️⃣", "🏴󠁧󠁢󠁳󠁣󠁴󠁿", "❤️‍🔥", "👍🏿", "☕"],
)
async def test_every_kind_of_emoji_is_one_reaction(
    alice: HyperSendClient, chat: Chat, emoji: str
) -> None:
    message = await alice.send_message(chat.id, "react to me")
    reacted = await alice.react(message.id, emoji)
    assert [(r.emoji, r.count) for r in reacted.reactions] == [(emoji, 1)]


@pytest.mark.parametrize(
    "text",
    ["a", "ok", "👍👍", "👍 ", "<b>", "%00", "\u200d", "\ufe0f👍", "🇺", "🇺🇦🇺🇦", "1", "x" * 64],
)
async def test_anything_but_one_emoji_is_422(alice: HyperSendClient, chat: Chat, text: str) -> None:
    message = await alice.send_message(chat.id, "react to me")
    with pytest.raises(InvalidInput) as refused:
        await alice.react(message.id, text)
    assert refused.value.code == "not_an_emoji"
    assert (await alice.messages(chat.id)).messages[-1].reactions == ()


async def test_strangers_unknown_and_deleted_messages_are_refused(
    alice: HyperSendClient, bob: HyperSendClient, carol: HyperSendClient, chat: Chat
) -> None:
    message = await alice.send_message(chat.id, "just us")
    with pytest.raises(NotFoundError):  # not in the chat: not even told it exists
        await carol.react(message.id, "👀")
    with pytest.raises(NotFoundError):
        await carol.react(message.id, "👀", remove=True)
    with pytest.raises(NotFoundError):
        await alice.react("01NOSUCHMESSAGE00000000000", "👀")
    await bob.react(message.id, "👍")
    await alice.delete_message(message.id)
    with pytest.raises(InvalidInput) as deleted:
        await bob.react(message.id, "👍")
    assert deleted.value.code == "message_deleted"
    (tombstone,) = [m for m in (await bob.messages(chat.id)).messages if m.id == message.id]
    assert tombstone.reactions == ()  # the reactions went with it


async def test_reactions_are_limited_per_person_and_per_message(server: ServerProcess) -> None:
    async with AsyncExitStack() as stack:
        people = [
            await stack.enter_async_context(await signed_in(server.url, f"Fan {n}"))
            for n in range(MAX_EMOJI_PER_MESSAGE // MAX_REACTIONS_PER_USER + 1)
        ]
        owner, *fans = people
        chat = await owner.create_group("Fans", [(await fan.me()).id for fan in fans])
        message = await owner.send_message(chat.id, "pick your favourites")
        faces = [chr(0x1F600 + n) for n in range(MAX_EMOJI_PER_MESSAGE + 1)]  # 😀 onwards

        await asyncio.gather(
            *[owner.react(message.id, face) for face in faces[:MAX_REACTIONS_PER_USER]]
        )
        with pytest.raises(ConflictError) as per_person:
            await owner.react(message.id, faces[-1])
        assert per_person.value.code == "too_many_reactions"
        await owner.react(message.id, faces[0])  # one already there: still fine

        rest = faces[MAX_REACTIONS_PER_USER:MAX_EMOJI_PER_MESSAGE]
        shares = [rest[n : n + MAX_REACTIONS_PER_USER] for n in range(0, len(rest), 3)]
        await asyncio.gather(
            *[
                fan.react(message.id, face)
                for fan, share in zip(fans, shares, strict=True)
                for face in share
            ]
        )
        spare = fans[len(shares) - 1] if len(rest) % 3 else fans[len(shares)]
        with pytest.raises(ConflictError) as per_message:
            await spare.react(message.id, faces[-1])
        assert per_message.value.code == "too_many_emoji"
        await spare.react(message.id, faces[0])  # an emoji already there: still fine

        (latest,) = (await owner.messages(chat.id, limit=1)).messages
        assert sorted(r.emoji for r in latest.reactions) == faces[:MAX_EMOJI_PER_MESSAGE]
