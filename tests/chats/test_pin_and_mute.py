"""Pinning and muting a chat: each member's own, first in their list, told to their devices."""

import asyncio

import pytest

from hypersend.chats.service import MAX_PINNED
from hypersend.client import ConflictError, HyperSendClient, NotFoundError


async def test_pinned_chats_come_first_for_the_one_who_pinned_them(
    alice: HyperSendClient, bob: HyperSendClient, carol: HyperSendClient
) -> None:
    bob_id, carol_id = (await bob.me()).id, (await carol.me()).id
    with_bob = await alice.open_direct_chat(bob_id)
    group = await alice.create_group("Trip", [bob_id, carol_id])
    with_carol = await alice.open_direct_chat(carol_id)
    await alice.send_message(with_carol.id, "latest activity")

    async with await alice.connect_events() as other_device:
        pinned = await alice.pin_chat(with_bob.id)
        async with asyncio.timeout(5):
            while (event := await other_device.next())["type"] != "chat.updated":
                pass
    assert pinned.pinned
    assert event["chat"]["id"] == with_bob.id
    assert event["chat"]["pinned"] is True
    await alice.pin_chat(group.id)  # the latest pinned on top
    assert [c.id for c in await alice.list_chats()][:3] == [group.id, with_bob.id, with_carol.id]
    assert (await alice.pin_chat(group.id)).pinned  # again: no change
    bobs = await bob.list_chats()
    assert not any(c.pinned for c in bobs)  # her pins are hers
    assert [c.id for c in bobs] == [group.id, with_bob.id]  # by activity alone

    unpinned = await alice.pin_chat(group.id, pinned=False)
    assert not unpinned.pinned
    assert (await alice.list_chats())[0].id == with_bob.id
    assert not (await alice.pin_chat(group.id, pinned=False)).pinned


async def test_at_most_a_few_chats_are_pinned(alice: HyperSendClient, bob: HyperSendClient) -> None:
    bob_id = (await bob.me()).id
    groups = [await alice.create_group(f"g{n}", [bob_id]) for n in range(MAX_PINNED + 1)]
    already = sum(c.pinned for c in await alice.list_chats())
    for group in groups[: MAX_PINNED - already]:
        await alice.pin_chat(group.id)
    with pytest.raises(ConflictError) as refused:
        await alice.pin_chat(groups[-1].id)
    assert refused.value.code == "too_many_pinned"
    assert sum(c.pinned for c in await alice.list_chats()) == MAX_PINNED


async def test_a_muted_chat_still_counts_unread_and_is_muted_for_its_muter_only(
    alice: HyperSendClient, bob: HyperSendClient, carol: HyperSendClient
) -> None:
    chat = await alice.open_direct_chat((await bob.me()).id)
    muted = await alice.mute_chat(chat.id)
    assert muted.muted
    await bob.send_message(chat.id, "one")
    await bob.send_message(chat.id, "two")
    (listed,) = [c for c in await alice.list_chats() if c.id == chat.id]
    assert (listed.muted, listed.unread_count) == (True, 2)
    assert not (await bob.get_chat(chat.id)).muted
    assert not (await alice.mute_chat(chat.id, muted=False)).muted
    for act in (carol.mute_chat(chat.id), carol.pin_chat(chat.id)):
        with pytest.raises(NotFoundError):  # not in the chat
            await act
