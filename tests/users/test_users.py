import uuid

import pytest

from hypersend.client import AuthError, HyperSendClient, InvalidInput
from tests.support.accounts import signed_in
from tests.support.server import ServerProcess


async def test_me_includes_the_admin_flag(alice: HyperSendClient) -> None:
    data = await alice.api.json("GET", "/users/me")
    assert set(data) == {"id", "email", "name", "created_at", "is_admin"}
    assert data["is_admin"] is False or data["is_admin"] is True


async def test_search_finds_by_name_or_email_but_never_the_caller(
    server: ServerProcess, alice: HyperSendClient
) -> None:
    unique = f"Zebulon {uuid.uuid4().hex[:8]}"
    bob = await signed_in(server.url, unique)
    bob_me = await bob.me()
    await bob.close()
    by_name = await alice.search_users(unique.lower())
    by_email = await alice.search_users(bob_me.email.upper())
    assert bob_me.id in {u.id for u in by_name}
    assert [u.id for u in by_email] == [bob_me.id]
    alice_me = await alice.me()
    assert alice_me.id not in {u.id for u in await alice.search_users("alice")}


async def test_search_treats_wildcards_literally_and_caps_results(
    alice: HyperSendClient,
) -> None:
    assert await alice.search_users("%") == []
    assert await alice.search_users("_") == []
    assert len(await alice.search_users("e")) <= 20


async def test_search_needs_a_query_and_a_token(
    server: ServerProcess, alice: HyperSendClient
) -> None:
    with pytest.raises(InvalidInput):
        await alice.api.json("GET", "/users/search", params={"q": ""})
    async with HyperSendClient(server.url) as anonymous:
        with pytest.raises(AuthError):
            await anonymous.search_users("a")
