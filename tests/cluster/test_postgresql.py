"""Several server processes on one PostgreSQL: one order of messages that every process and
every reader agrees on, and a database restart that costs requests in flight, not data."""

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from hypersend.client import ApiError, HyperSendClient
from hypersend.client.models import Message
from tests.cluster.conftest import Cluster
from tests.support.accounts import PASSWORD, signed_in, unique_email
from tests.support.postgres import PostgresProcess
from tests.support.server import ServerProcess

SENDS_EACH = 40


@pytest.fixture
def private_postgres() -> Iterator[PostgresProcess]:
    """A PostgreSQL of the test's own, free to be stopped and restarted."""
    process = PostgresProcess().start()
    yield process
    process.remove()


async def test_two_processes_writing_one_chat_give_one_order_a_reader_never_misses(
    cluster: Cluster, postgres: PostgresProcess
) -> None:
    a, b = cluster.start(2, env={"DATABASE_URL": postgres.new_database()})
    async with (
        await signed_in(a.url, "Alice") as alice,
        await signed_in(b.url, "Bob") as bob,
        await signed_in(a.url, "Carol") as carol,
    ):
        ids = [(await bob.me()).id, (await carol.me()).id]
        chat = await alice.create_group("busy", ids)
        start = await alice.send_message(chat.id, "start")
        sending = asyncio.gather(
            *(alice.send_message(chat.id, f"a{n}") for n in range(SENDS_EACH)),
            *(bob.send_message(chat.id, f"b{n}") for n in range(SENDS_EACH)),
        )
        seen: list[Message] = []
        cursor = start.id
        while len(seen) < 2 * SENDS_EACH:  # Carol catches up with after= while they write
            page = await carol.messages(chat.id, after=cursor, limit=7)
            seen.extend(page.messages)
            if page.messages:
                cursor = page.messages[-1].id
            else:
                await asyncio.sleep(0.01)
        sent = await sending

        assert sorted(m.id for m in seen) == sorted(m.id for m in sent)  # each exactly once
        for reader in (alice, bob):  # both processes list the same order
            everything = await reader.messages(chat.id, limit=100)
            assert [m.id for m in everything.messages] == [start.id, *(m.id for m in seen)]


async def test_a_database_restart_costs_requests_in_flight_not_data(
    tmp_path: Path, private_postgres: PostgresProcess
) -> None:
    server = ServerProcess(
        tmp_path / "data", {"DATABASE_URL": private_postgres.new_database()}
    ).start()
    try:
        async with (
            await signed_in(server.url, "Alice") as alice,
            await signed_in(server.url, "Bob") as bob,
        ):
            chat = await alice.create_group("notes", [(await bob.me()).id])
            before = await alice.send_message(chat.id, "before")
            private_postgres.stop()
            with pytest.raises(ApiError) as caught:
                await alice.send_message(chat.id, "while it is down")
            assert (caught.value.status, caught.value.code) == (503, "database_unavailable")
            async with httpx.AsyncClient() as http:
                assert (await http.get(f"{server.url}/health")).status_code == 503

            private_postgres.start()
            after = await alice.send_message(chat.id, "after")
            page = await alice.messages(chat.id)
            assert [m.id for m in page.messages] == [before.id, after.id]
            assert [m.text for m in page.messages] == ["before", "after"]
            async with httpx.AsyncClient() as http:
                assert (await http.get(f"{server.url}/health")).status_code == 200
    finally:
        server.stop()


async def test_two_processes_starting_together_on_an_empty_database(
    cluster: Cluster, postgres: PostgresProcess
) -> None:
    servers = cluster.start(3, env={"DATABASE_URL": postgres.new_database()})
    clients: list[HyperSendClient] = [
        await signed_in(server.url, f"User {n}") for n, server in enumerate(servers)
    ]
    try:
        for client in clients:
            assert (await client.me()).name.startswith("User")
    finally:
        for client in clients:
            await client.close()


async def test_first_sign_ups_racing_on_two_processes_make_one_admin(
    cluster: Cluster, postgres: PostgresProcess
) -> None:
    a, b = cluster.start(2, env={"DATABASE_URL": postgres.new_database()}, registration_policy=None)
    first = [HyperSendClient(server.url) for server in (a, b, a, b)]
    emails = [unique_email(f"first{n}") for n in range(len(first))]
    try:
        accounts = await asyncio.gather(
            *(
                client.register(email, PASSWORD, "First")
                for email, client in zip(emails, first, strict=True)
            ),
            return_exceptions=True,
        )
        made = [n for n, account in enumerate(accounts) if not isinstance(account, Exception)]
        assert len(made) == 1  # the others were told that an invite is needed
        assert all("invite" in str(accounts[n]) for n in range(len(first)) if n not in made)
        winner = first[made[0]]
        await winner.login(emails[made[0]], PASSWORD)
        assert (await winner.me()).is_admin
    finally:
        for client in first:
            await client.close()


async def test_a_direct_chat_opened_at_once_from_two_processes_is_one_chat(
    cluster: Cluster, postgres: PostgresProcess
) -> None:
    a, b = cluster.start(2, env={"DATABASE_URL": postgres.new_database()})
    async with (
        await signed_in(a.url, "Alice") as alice,
        await signed_in(b.url, "Bob") as bob,
    ):
        alice_id, bob_id = (await alice.me()).id, (await bob.me()).id
        chats = await asyncio.gather(
            *(alice.open_direct_chat(bob_id) for _ in range(3)),
            *(bob.open_direct_chat(alice_id) for _ in range(3)),
        )
        assert len({chat.id for chat in chats}) == 1


async def test_reactions_through_two_processes_at_once_keep_every_one_and_the_limit(
    cluster: Cluster, postgres: PostgresProcess
) -> None:
    a, b = cluster.start(2, env={"DATABASE_URL": postgres.new_database()})
    email = unique_email("alice")
    async with (
        HyperSendClient(a.url) as alice_on_a,
        HyperSendClient(b.url) as alice_on_b,
        await signed_in(b.url, "Bob") as bob,
        await signed_in(a.url, "Carol") as carol,
    ):
        await alice_on_a.register(email, PASSWORD, "Alice")
        for client in (alice_on_a, alice_on_b):
            await client.login(email, PASSWORD)
        chat = await alice_on_a.create_group("votes", [(await bob.me()).id, (await carol.me()).id])
        message = await alice_on_a.send_message(chat.id, "vote")
        faces = [chr(0x1F600 + n) for n in range(6)]
        async with await bob.connect_events() as bob_events:
            outcomes = await asyncio.gather(
                *(alice_on_a.react(message.id, face) for face in faces[:3]),
                *(alice_on_b.react(message.id, face) for face in faces[3:]),
                bob.react(message.id, "🎉"),
                carol.react(message.id, "🎉"),
                return_exceptions=True,
            )
            async with asyncio.timeout(5):  # Bob, on B, hears of reactions made on A
                while (event := await bob_events.next())["type"] != "message.updated":
                    pass
        refused = [o for o in outcomes if isinstance(o, ApiError)]
        assert [(e.status, e.code) for e in refused] == [(409, "too_many_reactions")] * 3
        assert event["message"]["id"] == message.id
        for reader in (alice_on_a, bob):  # both processes read the same reactions
            (latest,) = (await reader.messages(chat.id, limit=1)).messages
            counts = {r.emoji: r.count for r in latest.reactions}
            assert counts.pop("🎉") == 2
            assert len(counts) == 3
            assert set(counts) <= set(faces)
