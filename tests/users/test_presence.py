"""Presence: online while a `/ws` connection is open, last seen when the last one closes, told
live to the people one shares a chat with, hidden on request, refused to strangers."""

import asyncio
from typing import Any

import pytest

from hypersend.client import EventStream, HyperSendClient, InvalidInput, NotFoundError


async def next_presence(events: EventStream) -> dict[str, Any]:
    async with asyncio.timeout(5):
        while (event := await events.next())["type"] != "presence":
            pass
    return event


async def test_contacts_see_online_then_last_seen_live(
    alice: HyperSendClient, bob: HyperSendClient, carol: HyperSendClient
) -> None:
    alice_id = (await alice.me()).id
    await bob.open_direct_chat(alice_id)
    assert not (await bob.presence(alice_id)).online
    async with await bob.connect_events() as bob_events:
        first = await alice.connect_events()
        second = await alice.connect_events()  # a second device: no second announcement
        came = await next_presence(bob_events)
        assert came == {"type": "presence", "user_id": alice_id, "online": True, "last_seen": None}
        assert (await bob.presence(alice_id)).online
        await first.close()
        await asyncio.sleep(0.5)
        assert (await bob.presence(alice_id)).online  # still one connection open
        await second.close()
        went = await next_presence(bob_events)
    assert went["user_id"] == alice_id
    assert went["online"] is False
    seen = await bob.presence(alice_id)
    assert not seen.online
    assert seen.last_seen is not None
    assert went["last_seen"] is not None
    with pytest.raises(NotFoundError):  # shares no chat with her
        await carol.presence(alice_id)
    with pytest.raises(NotFoundError):
        await carol.presence("01NOSUCHUSER00000000000000")


async def test_hidden_presence_is_neither_told_nor_shown(
    alice: HyperSendClient, bob: HyperSendClient
) -> None:
    alice_id = (await alice.me()).id
    await bob.open_direct_chat(alice_id)
    async with await alice.connect_events():
        await asyncio.sleep(0.3)
        async with await bob.connect_events() as bob_events:
            await alice.hide_presence()
            hidden = await next_presence(bob_events)  # told at once: gone
            assert (hidden["online"], hidden["last_seen"]) == (False, None)
            shown = await bob.presence(alice_id)
            assert (shown.online, shown.last_seen) == (False, None)
            assert (await alice.presence(alice_id)).online  # she still sees herself
            me = await alice.api.json("GET", "/users/me")
            assert me["presence_hidden"] is True
            await alice.hide_presence(False)
            back = await next_presence(bob_events)
            assert back["online"] is True


async def test_the_setting_takes_a_boolean_only(alice: HyperSendClient) -> None:
    for wrong in (0, "yes", None):
        with pytest.raises(InvalidInput):
            await alice.api.json("PATCH", "/users/me", json={"presence_hidden": wrong})
    assert (await alice.api.json("GET", "/users/me"))["presence_hidden"] is False
