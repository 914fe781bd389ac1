import uuid

import pytest

from hypersend.client import AuthError, HyperSendClient, InvalidInput
from tests.support.accounts import signed_in
from tests.support.server import ServerProcess


async def test_me_includes_the_admin_flag(alice: HyperSendClient) -> None:
    data = await alice.api.json("GET", "/users/me")
    assert set(data) == {"id", "email", "name", "created_at", "is_admin", "presence_hidden"}
    assert data["is_admin"] is False or data["is_admin"] is True


async def test_search_finds_strangers_only_by_exact_email_and_contacts_by_name(
    server: ServerProcess, alice: HyperSendClient
) -> None:
    unique = f"Zebulon {uuid.uuid4().hex[:8]}"
    bob = await signed_in(server.url, unique)
    bob_me = await bob.me()
    await bob.close()

    async def found(text: str) -> list[str]:
        return [user.id for user in await alice.search_users(text)]

    assert await found(unique.lower()) == []  # no harvesting of strangers' emails by name
    assert await found(bob_me.email.split("@")[0]) == []
    assert await found(bob_me.email.upper()) == [bob_me.id]
    await alice.open_direct_chat(bob_me.id)
    assert await found(unique.lower()) == [bob_me.id]
    assert await found(bob_me.email.split("@")[0]) == [bob_me.id]
    assert (await alice.me()).id not in await found("alice")
    assert (await alice.me()).id not in await found((await alice.me()).email)


async def test_an_open_directory_finds_everyone_by_name(own_server: ServerProcess) -> None:
    own_server.env["USER_DIRECTORY"] = "everyone"
    own_server.start()
    unique = f"Yolanda {uuid.uuid4().hex[:8]}"
    async with (
        await signed_in(own_server.url, unique) as yolanda,
        await signed_in(own_server.url, "Seeker") as seeker,
    ):
        assert [user.id for user in await seeker.search_users(unique)] == [(await yolanda.me()).id]


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
