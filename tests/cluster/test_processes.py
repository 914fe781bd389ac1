"""Several `hypersend serve` processes on one database and one Redis behave as one server."""

import asyncio
import sqlite3
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import pytest

from hypersend.client import AuthError, HyperSendClient, NotFoundError
from hypersend.client.events import EventStream
from tests.cluster.conftest import Cluster, on
from tests.support.accounts import PASSWORD, signed_in, unique_email
from tests.support.files import random_file
from tests.support.redis import RedisProcess
from tests.support.server import TEST_CHUNK_SIZE, ServerProcess, free_port

Event = dict[str, object]


async def next_of(stream: EventStream, kind: str, seconds: float = 1.0) -> Event:
    """The next event of `kind`, which must come within `seconds`."""
    async with asyncio.timeout(seconds):
        while True:
            event: Event = await stream.next()
            if event["type"] == kind:
                return event


async def health(server: ServerProcess) -> httpx.Response:
    """`/health` on a new connection (so that `--workers` may hand it to any worker)."""
    async with httpx.AsyncClient() as http:
        return await http.get(f"{server.url}/health")


async def eventually(check: Callable[[], Awaitable[bool]], seconds: float = 2.0) -> None:
    deadline = time.monotonic() + seconds
    while not await check():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


async def test_events_reach_sockets_on_every_process(cluster: Cluster) -> None:
    a, b, c = cluster.start(3)
    async with (
        await signed_in(a.url, "Alice") as alice,
        await signed_in(b.url, "Bob") as bob,
        await signed_in(c.url, "Carol") as carol,
    ):
        group = await alice.create_group("three", [(await bob.me()).id, (await carol.me()).id])
        async with (
            await bob.connect_events() as bob_events,
            await carol.connect_events() as carol_events,
            await on(a, carol).connect_events() as carol_elsewhere,
        ):
            sent = await alice.send_message(group.id, "through A")
            for stream in (bob_events, carol_events, carol_elsewhere):
                event = await next_of(stream, "message.created")
                assert event["message"]["id"] == sent.id  # type: ignore[index]

            async with await alice.connect_events() as alice_events:
                await bob_events.typing(group.id)
                typing = await next_of(alice_events, "typing")
                assert typing["user_id"] == (await bob.me()).id
                await carol.mark_read(sent.id)
                read = await next_of(alice_events, "message.read")
                assert read["last_read_message_id"] == sent.id


async def test_logout_ends_the_session_on_every_process(cluster: Cluster) -> None:
    a, b = cluster.start(2)
    alice = await signed_in(a.url, "Alice")
    alice_on_b = on(b, alice)
    try:
        await alice_on_b.me()  # B now knows (caches) the session
        stream = await alice_on_b.connect_events()
        tokens = alice.tokens
        await alice.logout()
        with pytest.raises(AuthError):
            await HyperSendClient(b.url, tokens=tokens).me()
        async with asyncio.timeout(2):
            async for _ in stream:
                pass
        assert stream.close_code == 4001
    finally:
        await alice.close()
        await alice_on_b.close()


async def test_removal_from_a_group_is_enforced_by_every_process(cluster: Cluster) -> None:
    a, b = cluster.start(2)
    async with (
        await signed_in(a.url, "Owner") as owner,
        await signed_in(b.url, "Member") as member,
    ):
        member_id = (await member.me()).id
        group = await owner.create_group("club", [member_id])
        await member.send_message(group.id, "hello from B")  # B now caches the members
        await owner.remove_member(group.id, member_id)
        with pytest.raises(NotFoundError):
            await member.send_message(group.id, "still here?")


async def test_a_disabled_account_is_refused_by_every_process(cluster: Cluster) -> None:
    a, b = cluster.start(2, registration_policy=None)
    admin = await signed_in(a.url, "Admin")
    try:
        invite = await admin.admin.create_invite()
        user = HyperSendClient(b.url)
        email = unique_email("user")
        await user.register(email, PASSWORD, "User", invite_code=invite.code)
        await user.login(email, PASSWORD)
        await user.me()
        account = await admin.admin.user_by_email(email)
        await admin.admin.update_user(account.id, disabled=True)
        with pytest.raises(AuthError):
            await user.me()
        await user.close()
    finally:
        await admin.close()


async def test_sign_in_throttling_counts_across_processes(cluster: Cluster) -> None:
    a, b = cluster.start(2, env={"LOGIN_MAX_FAILURES_PER_ACCOUNT": "3"})
    victim = await signed_in(a.url, "Victim")
    email = (await victim.me()).email
    await victim.close()
    statuses = []
    async with httpx.AsyncClient() as http:
        for server in (a, b, a, b):
            answer = await http.post(
                f"{server.url}/auth/login", json={"email": email, "password": "wrong password"}
            )
            statuses.append(answer.status_code)
    assert statuses == [401, 401, 401, 429]


async def test_concurrent_first_sign_ups_make_one_admin(cluster: Cluster) -> None:
    servers = cluster.start(2, registration_policy=None)

    async def register(index: int) -> int:
        server = servers[index % len(servers)]
        async with httpx.AsyncClient() as http:
            answer = await http.post(
                f"{server.url}/auth/register",
                json={"email": unique_email("first"), "password": PASSWORD, "name": "First"},
            )
        return answer.status_code

    statuses = await asyncio.gather(*(register(i) for i in range(8)))
    assert sorted(statuses) == [201] + [403] * 7
    with sqlite3.connect(servers[0].data_root / "hypersend.db") as database:
        (admins,) = database.execute("SELECT COUNT(*) FROM users WHERE is_admin").fetchone()
    assert admins == 1


async def test_processes_starting_together_on_a_fresh_database_all_come_up(
    cluster: Cluster,
) -> None:
    servers = cluster.start(3)
    for server in servers:
        assert (await health(server)).json()["bus"] == "ok"
    assert "already exists" not in "".join(server.log() for server in servers)


async def test_two_workers_share_one_port_and_one_redis(cluster: Cluster) -> None:
    (server,) = [cluster.add(workers=2).launch()]
    server.wait_until_healthy()
    nodes = set()
    for _ in range(40):
        nodes.add((await health(server)).json()["node"])
        if len(nodes) == 2:
            break
    assert len(nodes) == 2, "both workers answer"
    async with (
        await signed_in(server.url, "Alice") as alice,
        await signed_in(server.url, "Bob") as bob,
    ):
        chat = await alice.open_direct_chat((await bob.me()).id)
        streams = [await bob.connect_events() for _ in range(6)]  # spread over both workers
        sent = await alice.send_message(chat.id, "to every socket")
        for stream in streams:
            event = await next_of(stream, "message.created")
            assert event["message"]["id"] == sent.id  # type: ignore[index]
            await stream.close()


async def test_every_worker_takes_chunks_on_the_upload_port(
    cluster: Cluster, tmp_path: Path
) -> None:
    """Each worker process listens on `UPLOAD_PORT` (the kernel spreads the connections) and
    records what it takes in the shared store: an upload over many connections completes."""
    port = free_port()
    server = cluster.add(workers=2, env={"UPLOAD_PORT": str(port)}).launch()
    server.wait_until_healthy()  # one worker serves; the other may still be starting

    async def both_listen() -> bool:
        return len(_listeners_on(port)) == 2

    await eventually(both_listen, seconds=30)
    async with await signed_in(server.url, "Alice") as alice:
        source = random_file(tmp_path / "big.bin", 40 * TEST_CHUNK_SIZE + 7)
        for _ in range(3):  # new connections each time, spread over the workers
            info = await alice.upload_file(source, parallel=6)
            assert info.status == "complete"
            assert server.stored_bytes(info.file_id) == source.read_bytes()


def test_a_server_stopped_as_its_workers_start_always_ends(cluster: Cluster) -> None:
    """Every process of a two-worker server signalled at once (as systemd and Ctrl-C do; the
    test helper signals the process group) as soon as it serves: granian's signal handler,
    run twice in a worker still starting, blocks it for good (this hung 2 stops in 6). The
    server kills such a worker after `STOP_GRACE_SECONDS`: every stop ends."""
    for _ in range(4):
        server = cluster.add(workers=2, env={"STOP_GRACE_SECONDS": "2"}).launch()
        server.wait_until_healthy()  # one worker serves; the other may still be starting
        stopping = time.monotonic()
        server.stop()  # TimeoutExpired after 30 s
        assert time.monotonic() - stopping < 2 + 5


def _listeners_on(port: int) -> list[str]:
    """The listening TCP sockets on `port` (from /proc/net/tcp: state 0A is LISTEN)."""
    rows = Path("/proc/net/tcp").read_text().splitlines()[1:]
    return [
        row for row in rows if row.split()[1].endswith(f":{port:04X}") and row.split()[3] == "0A"
    ]


async def test_losing_redis_closes_sockets_and_nothing_is_lost(
    cluster: Cluster, redis_server: RedisProcess
) -> None:
    a, b = cluster.start(2)
    async with (
        await signed_in(a.url, "Alice") as alice,
        await signed_in(b.url, "Bob") as bob,
    ):
        chat = await alice.open_direct_chat((await bob.me()).id)
        before = await alice.send_message(chat.id, "before")
        stream = await bob.connect_events()
        redis_server.stop()
        async with asyncio.timeout(5):
            async for _ in stream:
                pass
        assert stream.close_code == 1013
        during = await alice.send_message(chat.id, "while Redis is down")  # HTTP keeps working
        assert (await health(b)).status_code == 503

        redis_server.start()
        await eventually(lambda: _healthy(a, b), seconds=15)
        caught_up = await bob.messages(chat.id, after=before.id)
        assert [m.id for m in caught_up.messages] == [during.id]
        async with await bob.connect_events() as live:
            after = await alice.send_message(chat.id, "after")
            event = await next_of(live, "message.created", seconds=2)
            assert event["message"]["id"] == after.id  # type: ignore[index]


async def _healthy(*servers: ServerProcess) -> bool:
    answers = [await health(server) for server in servers]
    return all(answer.status_code == 200 for answer in answers)


async def test_presence_is_one_answer_across_processes(cluster: Cluster) -> None:
    """Online while a connection is open on any process, told once when the first opens and
    once when the last closes, whichever processes they are on; a killed process's
    connections stop counting once it is known dead."""
    a, b, c = cluster.start(3, env={"LEASE_SECONDS": "2"})
    async with (
        await signed_in(a.url, "Alice") as alice,
        await signed_in(c.url, "Bob") as bob,
    ):
        alice_id = (await alice.me()).id
        await bob.open_direct_chat(alice_id)
        async with await bob.connect_events() as bob_events:
            on_a = await alice.connect_events()
            on_b = await on(b, alice).connect_events()
            came = await next_of(bob_events, "presence", 5)
            assert (came["user_id"], came["online"]) == (alice_id, True)
            await on_a.close()
            with pytest.raises(TimeoutError):  # her connection on B is still open
                await next_of(bob_events, "presence", 1)
            assert (await on(a, bob).presence(alice_id)).online
            await on_b.close()
            went = await next_of(bob_events, "presence", 5)
            assert (went["online"], went["last_seen"] is not None) == (False, True)
            for process in (a, b, c):
                assert not (await on(process, bob).presence(alice_id)).online

            await on(b, alice).connect_events()  # then B dies with it open
            assert (await next_of(bob_events, "presence", 5))["online"] is True
            b.kill()
            await asyncio.sleep(3)  # its lease runs out
            assert not (await bob.presence(alice_id)).online
            async with await alice.connect_events():  # back: told as coming online
                assert (await next_of(bob_events, "presence", 5))["online"] is True
