"""Direct and group chats, membership, and the chat list."""

import asyncio

import httpx
import pytest

from hypersend.client import HyperSendClient, InvalidInput, NotFoundError, PermissionDenied
from tests.support.server import ServerProcess


async def test_a_direct_chat_is_created_once_per_pair(
    server: ServerProcess, alice: HyperSendClient, bob: HyperSendClient
) -> None:
    bob_id = (await bob.me()).id
    alice_id = (await alice.me()).id
    assert alice.tokens is not None
    async with httpx.AsyncClient(base_url=server.url) as http:
        headers = {"Authorization": f"Bearer {alice.tokens.access_token}"}
        body = {"type": "direct", "member_ids": [bob_id]}
        first = await http.post("/chats/", json=body, headers=headers)
        again = await http.post("/chats/", json=body, headers=headers)
    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    from_bob = await bob.open_direct_chat(alice_id)
    assert from_bob.id == first.json()["id"]
    assert from_bob.title == "Alice Liddell"
    assert first.json()["title"] == "Bob Builder"


async def test_concurrent_direct_chat_creation_yields_one_chat(
    alice: HyperSendClient, bob: HyperSendClient
) -> None:
    bob_id = (await bob.me()).id
    alice_id = (await alice.me()).id
    chats = await asyncio.gather(
        *[alice.open_direct_chat(bob_id) for _ in range(4)],
        *[bob.open_direct_chat(alice_id) for _ in range(4)],
    )
    assert len({chat.id for chat in chats}) == 1


@pytest.mark.parametrize(
    "body",
    [
        {"type": "direct", "member_ids": ["01NOSUCHUSER0000000000000"]},
        {"type": "group", "title": "G", "member_ids": ["01NOSUCHUSER0000000000000"]},
    ],
)
async def test_unknown_members_are_422(alice: HyperSendClient, body: dict[str, object]) -> None:
    with pytest.raises(InvalidInput) as caught:
        await alice.api.json("POST", "/chats/", json=body)
    assert caught.value.status == 422


async def test_a_direct_chat_with_yourself_or_several_people_is_422(
    alice: HyperSendClient, bob: HyperSendClient, carol: HyperSendClient
) -> None:
    me = (await alice.me()).id
    others = [(await bob.me()).id, (await carol.me()).id]
    for members in ([me], others, []):
        with pytest.raises(InvalidInput):
            await alice.api.json("POST", "/chats/", json={"type": "direct", "member_ids": members})


async def test_groups_need_a_title(alice: HyperSendClient, bob: HyperSendClient) -> None:
    with pytest.raises(InvalidInput):
        await alice.create_group("   ", [(await bob.me()).id])


async def test_group_membership_add_leave_and_remove(
    alice: HyperSendClient, bob: HyperSendClient, carol: HyperSendClient
) -> None:
    bob_id, carol_id = (await bob.me()).id, (await carol.me()).id
    group = await alice.create_group("Trip", [bob_id])
    assert group.type == "group"
    assert group.title == "Trip"
    with pytest.raises(NotFoundError):
        await carol.get_chat(group.id)

    with pytest.raises(NotFoundError):  # not yet a member (this answer is not kept)
        await carol.send_message(group.id, "let me in")
    await bob.add_member(group.id, carol_id)
    assert {m.id for m in (await carol.get_chat(group.id)).members} >= {bob_id, carol_id}
    await carol.send_message(group.id, "thanks for adding me")  # at once

    with pytest.raises(PermissionDenied):
        await bob.remove_member(group.id, carol_id)
    await alice.remove_member(group.id, carol_id)
    with pytest.raises(NotFoundError):
        await carol.get_chat(group.id)
    with pytest.raises(NotFoundError):  # membership changes take effect at once
        await carol.send_message(group.id, "still here?")
    with pytest.raises(NotFoundError):
        await carol.messages(group.id)
    with pytest.raises(NotFoundError):
        await carol.add_member(group.id, carol_id)

    await bob.remove_member(group.id, bob_id)
    assert group.id not in {chat.id for chat in await bob.list_chats()}
    with pytest.raises(NotFoundError):
        await alice.remove_member(group.id, bob_id)


async def test_direct_chats_have_fixed_members(
    alice: HyperSendClient, bob: HyperSendClient, carol: HyperSendClient
) -> None:
    chat = await alice.open_direct_chat((await bob.me()).id)
    with pytest.raises(InvalidInput):
        await alice.add_member(chat.id, (await carol.me()).id)


async def test_strangers_cannot_see_a_chat(
    alice: HyperSendClient, bob: HyperSendClient, carol: HyperSendClient
) -> None:
    chat = await alice.open_direct_chat((await bob.me()).id)
    with pytest.raises(NotFoundError):
        await carol.get_chat(chat.id)
    with pytest.raises(NotFoundError):
        await carol.messages(chat.id)
    with pytest.raises(NotFoundError):
        await carol.send_message(chat.id, "let me in")
    assert chat.id not in {c.id for c in await carol.list_chats()}


async def test_chat_list_orders_by_activity_with_previews_and_unread_counts(
    alice: HyperSendClient, bob: HyperSendClient, carol: HyperSendClient
) -> None:
    bob_id, carol_id = (await bob.me()).id, (await carol.me()).id
    with_bob = await alice.open_direct_chat(bob_id)
    with_carol = await alice.open_direct_chat(carol_id)
    group = await alice.create_group("All of us", [bob_id, carol_id])

    await bob.send_message(with_bob.id, "one")
    await bob.send_message(with_bob.id, "two")
    await carol.send_message(with_carol.id, "hi alice")
    await alice.send_message(group.id, "my own message is never unread")

    chats = await alice.list_chats()
    order = [c.id for c in chats if c.id in {with_bob.id, with_carol.id, group.id}]
    assert order == [group.id, with_carol.id, with_bob.id]
    by_id = {c.id: c for c in chats}
    assert by_id[with_bob.id].unread_count == 2
    last = by_id[with_bob.id].last_message
    assert last is not None
    assert last.text == "two"
    assert by_id[with_carol.id].title == "Carol Danvers"
    assert by_id[group.id].unread_count == 0

    await bob.send_message(with_bob.id, "three")
    assert (await alice.list_chats())[0].id == with_bob.id
