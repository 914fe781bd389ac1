"""What one operation costs the server: a send, an edit, a reaction, each flat out.

    .venv/bin/python bench/message_costs.py [--users 200] [--group-size 10] [--seconds 15]
                                            [--concurrency 32]

One server process (SQLite), every user on `/ws` draining their events, a message in each
chat. Then, for `--seconds` each and in turn, `--concurrency` loops do one kind of operation
as fast as the server answers, spread over every chat (group and direct alike):

- send: a new message (`POST /messages/`), told to every member as `message.created`;
- edit: the chat's first message edited by its sender (`PATCH /messages/{id}`);
- react: its sender's reaction added, then taken back on the next round (`PUT`/`DELETE
  /messages/{id}/reactions/👍`), so every request changes something.

An edit and a reaction are each told to every member as `message.updated` (a reaction as one
event for those who have not reacted and one for the reactor). Printed per kind: operations
per second, the server's CPU milliseconds per operation, and the ratio of both to sends (the
baseline). When a change costs the server no more CPU than a send, edits and reactions in the
mix take nothing from the messages per second one server can carry, whatever the load
generator on the same machine manages. Not part of the test suite.
"""

import argparse
import asyncio
import os
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from common import ServerProcess, server_cpu_seconds
from messaging import set_up

from hypersend.client import EventStream, HyperSendClient

Target = tuple[HyperSendClient, str, str]  # the sender, the chat, the sender's message in it
Operation = Callable[[Target, int], Awaitable[object]]


@dataclass(frozen=True)
class Cost:
    kind: str
    operations: int
    seconds: float
    server_cpu_seconds: float

    @property
    def per_second(self) -> float:
        return self.operations / self.seconds

    @property
    def cpu_ms(self) -> float:
        return self.server_cpu_seconds / self.operations * 1000


def operations(targets: list[Target]) -> dict[str, Operation]:
    async def send(target: Target, number: int) -> object:
        client, chat_id, _ = target
        return await client.send_message(chat_id, f"benchmark message {number}")

    async def edit(target: Target, number: int) -> object:
        client, _, message_id = target
        return await client.edit_message(message_id, f"benchmark message, edited {number}")

    async def react(target: Target, number: int) -> object:
        client, _, message_id = target
        taken_back = (number // len(targets)) % 2 == 1  # every message's second round
        return await client.react(message_id, "👍", remove=taken_back)

    return {"send": send, "edit": edit, "react": react}


async def flat_out(
    server: ServerProcess,
    targets: list[Target],
    kind: str,
    operation: Operation,
    args: argparse.Namespace,
) -> Cost:
    done = 0
    stop_at = time.perf_counter() + args.seconds

    async def loop(first: int) -> None:
        nonlocal done
        number = first
        while time.perf_counter() < stop_at:
            await operation(targets[number % len(targets)], number)
            number += args.concurrency
            done += 1

    cpu_before, started = server_cpu_seconds(server), time.perf_counter()
    await asyncio.gather(*(loop(first) for first in range(args.concurrency)))
    return Cost(kind, done, time.perf_counter() - started, server_cpu_seconds(server) - cpu_before)


async def drain(stream: EventStream) -> None:
    async for _ in stream:
        pass


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--group-size", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--dir", type=Path, default=None, help="scratch folder (default: /tmp)")
    args = parser.parse_args()

    costs = []
    with tempfile.TemporaryDirectory(dir=args.dir) as scratch:
        server = ServerProcess(Path(scratch) / "data", {}, workers=1).start()
        try:
            print(f"signing in {args.users} users and creating their chats ...", flush=True)
            clients, _, groups, directs = await set_up(server.url, args.users, args.group_size)
            streams = [await client.connect_events() for client in clients]
            drains = [asyncio.create_task(drain(stream)) for stream in streams]
            targets = [
                (client, chat_id, (await client.send_message(chat_id, "hello")).id)
                for client, chat_id, _ in groups + directs
            ]
            for kind, operation in operations(targets).items():
                print(f"{kind}: {args.concurrency} at a time for {args.seconds:g} s ...")
                costs.append(await flat_out(server, targets, kind, operation, args))
            for stream in streams:
                await stream.close()
            await asyncio.gather(*drains, return_exceptions=True)
            for client in clients:
                await client.close()
        finally:
            server.stop()

    baseline = costs[0]
    print(f"\n{args.users} users on /ws, groups of {args.group_size}, one server process")
    print(f"{'operation':<10} {'per s':>7} {'ratio':>6} {'server CPU ms/op':>17} {'ratio':>6}")
    for cost in costs:
        rate_ratio = cost.per_second / baseline.per_second
        print(
            f"{cost.kind:<10} {cost.per_second:>7.0f} {rate_ratio:>5.2f}x"
            f" {cost.cpu_ms:>17.2f} {cost.cpu_ms / baseline.cpu_ms:>5.2f}x"
        )


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    asyncio.run(main())
