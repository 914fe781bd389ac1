"""Real-time messaging: N users on `/ws`, messages sent at a fixed rate into group and
direct chats, delivery rate and send-to-receipt latency, server CPU and memory.

    .venv/bin/python bench/messaging.py [--users 200] [--group-size 10] [--rate 300]
                                        [--seconds 20] [--workers N] [--redis] [--stores]
                                        [--changes 0.5]

Without `--workers`/`--redis` it measures, in one run and at the same offered load, one
process alone (the baseline), one process with a Redis event bus, and two workers sharing
Redis, and prints each against the baseline; with them, that one configuration. `--stores`
compares stores instead: SQLite (the baseline), PostgreSQL, and two workers on PostgreSQL
sharing Redis. Redis is Debian's redis-server and PostgreSQL Debian's server, each started
privately on a free port (PostgreSQL with fsync on and `synchronous_commit=off`, which is
what SQLite's WAL with `synchronous=NORMAL` promises too). `--changes X` compares one process
sending only messages (the baseline) with one that is offered the same operations per
second, X changes per new message among them: edits of a chat's latest message by its
sender and that sender's reaction added or taken back (every change changes something), in
the same mix of group and direct chats as the sends, each told to every member as
`message.updated`. The CPU milliseconds per operation compare what a change costs the
server with what a send does, whatever the load generator manages.

Every user holds one `/ws` connection. Each tick sends one message through `POST /messages/`
(round robin over the group chats, with `--direct-share` of them in direct chats); every
other member's connection must receive it as `message.created`. The latency of a delivery is
from just before the send request to the moment the receiving connection has parsed the
event (all clients live in this one process, so they share one clock). Server CPU is the
server's processes' CPU time over the run, in percent of one core; clients CPU is this
process's (the users' connections: what the client library's WebSocket costs). Not part of
the test suite.
"""

import argparse
import asyncio
import contextlib
import itertools
import os
import statistics
import tempfile
import time
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from common import ServerProcess, peak_rss_mib, server_cpu_seconds
from tests.support.accounts import signed_in
from tests.support.postgres import PostgresProcess
from tests.support.redis import RedisProcess

from hypersend.client import EventStream, HyperSendClient

SETUP_CONCURRENCY = 8
Route = tuple[HyperSendClient, str, int]  # who sends, into which chat, how many receive it
MAX_IN_FLIGHT = 64


@dataclass
class Tally:
    sent_at: dict[str, float] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    updates: int = 0  # message.updated events received (edits and reactions)
    expected: int = 0
    sending_done: bool = False
    all_delivered: asyncio.Event = field(default_factory=asyncio.Event)

    def check_complete(self) -> None:
        if self.sending_done and len(self.latencies) >= self.expected:
            self.all_delivered.set()


async def listen(stream: EventStream, user_id: str, tally: Tally) -> None:
    async for event in stream:
        if event.get("type") == "message.updated":
            tally.updates += 1
        if event.get("type") != "message.created":
            continue
        message = event["message"]
        sent_at = tally.sent_at.get(message.get("client_id") or "")
        if sent_at is not None and message["sender_id"] != user_id:
            tally.latencies.append(time.perf_counter() - sent_at)
            tally.check_complete()


async def set_up(
    url: str, users: int, group_size: int
) -> tuple[list[HyperSendClient], list[str], list[Route], list[Route]]:
    """The signed-in users, their ids, and the routes of the group and the direct chats."""
    gate = asyncio.Semaphore(SETUP_CONCURRENCY)

    async def one(number: int) -> HyperSendClient:
        async with gate:
            return await signed_in(url, f"User{number} Bench")

    clients = list(await asyncio.gather(*(one(n) for n in range(users))))
    ids = [(await client.me()).id for client in clients]
    groups: list[Route] = []
    for start in range(0, users - group_size + 1, group_size):
        chat = await clients[start].create_group(
            f"group {start}", ids[start + 1 : start + group_size]
        )
        groups.append((clients[start], chat.id, group_size - 1))
    directs: list[Route] = []
    for left in range(0, users - 1, 2):
        chat = await clients[left].open_direct_chat(ids[left + 1])
        directs.append((clients[left + (left // 2) % 2], chat.id, 1))
    return clients, ids, groups, directs


def mixed(
    groups: list[Route], directs: list[Route], direct_share: float, count: int | None
) -> Iterator[Route]:
    """`count` (or endless) turns, every chat in turn, a `direct_share` of them in direct
    chats."""
    group_turns, direct_turns = itertools.cycle(groups), itertools.cycle(directs)
    for number in itertools.count() if count is None else range(count):
        due_directs = int((number + 1) * direct_share) - int(number * direct_share)
        yield next(direct_turns) if due_directs else next(group_turns)


async def send_at_rate(
    routes: Iterator[Route],
    rate: float,
    tally: Tally,
    changes: float = 0.0,
    change_routes: Iterator[Route] | None = None,
) -> tuple[int, int]:
    """Send at `rate`, with `changes` edits or reactions per send; return (sent, changed).

    A change goes to the latest message of a chat taken from `change_routes` (the same mix
    of group and direct chats as the sends), by its sender: every third an edit, the others
    its reaction added or, when there is one, taken back, so every change changes something
    and is told to every member."""
    in_flight = asyncio.Semaphore(MAX_IN_FLIGHT)
    tasks: set[asyncio.Task[None]] = set()
    latest: dict[str, str] = {}  # chat id -> the id of the last message sent into it
    reacted: set[str] = set()  # the messages that carry their sender's reaction
    changed = 0

    async def send(client: HyperSendClient, chat_id: str, client_id: str) -> None:
        async with in_flight:
            tally.sent_at[client_id] = time.perf_counter()
            message = await client.send_message(chat_id, "benchmark message", client_id=client_id)
            latest[chat_id] = message.id

    async def change(client: HyperSendClient, message_id: str, number: int) -> None:
        async with in_flight:
            if number % 3 == 0:
                await client.edit_message(message_id, f"benchmark message, edited {number}")
            elif message_id in reacted:
                reacted.discard(message_id)
                await client.react(message_id, "👍", remove=True)
            else:
                reacted.add(message_id)
                await client.react(message_id, "👍")

    def start(work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    started = time.perf_counter()
    sent = 0
    for number, (client, chat_id, recipients) in enumerate(routes):
        due = started + number / rate
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        start(send(client, chat_id, f"bench-{number}"))
        tally.expected += recipients
        sent += 1
        due_changes = int((number + 1) * changes) - int(number * changes)
        for _ in range(due_changes if change_routes else 0):
            assert change_routes is not None
            changer, changed_chat, _ = next(change_routes)
            if changed_chat in latest:
                start(change(changer, latest[changed_chat], changed))
                changed += 1
    await asyncio.gather(*tasks)
    return sent, changed


@dataclass(frozen=True)
class Setup:
    workers: int
    redis: bool
    store: str = "sqlite"  # or "postgresql"
    changes: float = 0.0  # edits and reactions per new message

    def __str__(self) -> str:
        processes = f"{self.workers} worker" + ("s" if self.workers > 1 else "")
        processes += " + Redis" if self.redis else ", no Redis"
        if self.store != "sqlite":
            processes += ", PostgreSQL"
        return processes + (f", {self.changes:g} changes/msg" if self.changes else "")


@dataclass(frozen=True)
class Result:
    sent: int
    expected: int
    delivered: int
    per_second: float
    p50_ms: float
    p99_ms: float
    cpu_percent: float
    client_cpu_percent: float
    rss_mib: float
    changed: int
    updates_per_second: float
    operations_per_second: float  # sends and changes the server took
    cpu_ms_per_operation: float  # the server's CPU time per send or change


async def measure(args: argparse.Namespace, setup: Setup, scratch: Path) -> Result:
    redis = RedisProcess(scratch / "redis").start() if setup.redis else None
    environment = {"REDIS_URL": redis.url} if redis else {}
    postgres = PostgresProcess(crash_safe=True).start() if setup.store == "postgresql" else None
    if postgres is not None:
        environment["DATABASE_URL"] = postgres.new_database()
    server = ServerProcess(scratch / "data", environment, workers=setup.workers).start()
    try:
        print(f"[{setup}] signing in {args.users} users and creating their chats ...", flush=True)
        clients, ids, groups, directs = await set_up(server.url, args.users, args.group_size)
        rate = args.rate / (1 + setup.changes)  # the same operations per second offered
        routes = mixed(groups, directs, args.direct_share, int(rate * args.seconds))
        streams = [await client.connect_events() for client in clients]
        tally = Tally()
        listeners = [
            asyncio.create_task(listen(stream, user_id, tally))
            for stream, user_id in zip(streams, ids, strict=True)
        ]
        print(f"[{setup}] sending {rate:.0f} messages/s for {args.seconds:.0f} s ...")
        cpu_before, wall_before = server_cpu_seconds(server), time.perf_counter()
        client_cpu_before = time.process_time()
        change_routes = mixed(groups, directs, args.direct_share, None)
        sent, changed = await send_at_rate(routes, rate, tally, setup.changes, change_routes)
        tally.sending_done = True
        tally.check_complete()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(tally.all_delivered.wait(), 5)
        wall = time.perf_counter() - wall_before
        cpu = server_cpu_seconds(server) - cpu_before
        client_cpu = time.process_time() - client_cpu_before
        rss = peak_rss_mib(server)
        for stream in streams:
            await stream.close()
        await asyncio.gather(*listeners, return_exceptions=True)
        for client in clients:
            await client.close()
    finally:
        server.stop()
        if redis is not None:
            redis.stop()
        if postgres is not None:
            postgres.remove()
    latencies = sorted(tally.latencies)
    return Result(
        sent=sent,
        expected=tally.expected,
        delivered=len(latencies),
        per_second=len(latencies) / wall,
        p50_ms=statistics.median(latencies) * 1000,
        p99_ms=latencies[int(len(latencies) * 0.99) - 1] * 1000,
        cpu_percent=cpu / wall * 100,
        client_cpu_percent=client_cpu / wall * 100,
        rss_mib=rss,
        changed=changed,
        updates_per_second=tally.updates / wall,
        operations_per_second=(sent + changed) / wall,
        cpu_ms_per_operation=cpu / max(sent + changed, 1) * 1000,
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--group-size", type=int, default=10)
    parser.add_argument("--rate", type=float, default=300, help="messages sent per second")
    parser.add_argument(
        "--direct-share", type=float, default=0.25, help="part of them sent in direct chats"
    )
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--workers", type=int, help="server processes on the one port")
    parser.add_argument("--redis", action="store_true", help="share events through Redis")
    parser.add_argument(
        "--stores",
        action="store_true",
        help="compare stores instead: SQLite, PostgreSQL, and 2 workers on PostgreSQL + Redis",
    )
    parser.add_argument(
        "--changes",
        type=float,
        help="compare sends alone with sends plus this many edits/reactions per message",
    )
    parser.add_argument("--dir", type=Path, default=None, help="scratch folder (default: /tmp)")
    args = parser.parse_args()

    if args.changes:
        setups = [Setup(1, redis=False), Setup(1, redis=False, changes=args.changes)]
    elif args.stores:
        setups = [
            Setup(1, redis=False),
            Setup(1, redis=False, store="postgresql"),
            Setup(2, redis=True, store="postgresql"),
        ]
    elif args.workers is None and not args.redis:
        setups = [Setup(1, redis=False), Setup(1, redis=True), Setup(2, redis=True)]
    else:
        setups = [Setup(args.workers or 1, redis=args.redis)]
    results = []
    for setup in setups:
        with tempfile.TemporaryDirectory(dir=args.dir) as scratch:
            results.append(await measure(args, setup, Path(scratch)))

    baseline = results[0]
    print(
        f"\n{args.users} users on /ws, {args.rate:.0f} messages/s offered for {args.seconds:.0f} s"
    )
    print(
        f"{'setup':<34} {'delivered':>17} {'per s':>7} {'ratio':>6} {'p50 ms':>7} "
        f"{'p99 ms':>7} {'CPU %':>6} {'RSS MiB':>8} {'clients CPU %':>13}"
        f" {'changes':>7} {'updates/s':>9} {'ops/s':>6} {'ratio':>6} {'CPU ms/op':>9}"
        f" {'ratio':>6}"
    )
    for setup, result in zip(setups, results, strict=True):
        print(
            f"{setup!s:<34} {result.delivered:>8}/{result.expected:<8} {result.per_second:>7.0f}"
            f" {result.per_second / baseline.per_second:>5.2f}x {result.p50_ms:>7.1f}"
            f" {result.p99_ms:>7.1f} {result.cpu_percent:>6.0f} {result.rss_mib:>8.0f}"
            f" {result.client_cpu_percent:>13.0f} {result.changed:>7} "
            f"{result.updates_per_second:>9.0f} {result.operations_per_second:>6.0f}"
            f" {result.operations_per_second / baseline.operations_per_second:>5.2f}x"
            f" {result.cpu_ms_per_operation:>9.2f}"
            f" {result.cpu_ms_per_operation / baseline.cpu_ms_per_operation:>5.2f}x"
        )
    print("targets: >= 2000 delivered/s at p99 < 50 ms; Redis costs one process <= 10 %")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    asyncio.run(main())
