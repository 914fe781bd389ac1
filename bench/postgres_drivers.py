"""Which way to drive PostgreSQL from HyperSend's event loop: the same two transactions
through three drivers, on one private PostgreSQL, in one run.

    .venv/bin/python bench/postgres_drivers.py [--tasks 16] [--seconds 5]

- psycopg on threads: HyperSend's `PostgresDatabase` (psycopg 3's blocking API, a
  connection per worker thread, each call handed to a thread): the baseline.
- psycopg async: psycopg 3's `AsyncConnection`, one per task.
- asyncpg: `asyncpg.create_pool` (skipped, and said so, when asyncpg is not installed:
  `pip install asyncpg`).

`--tasks` tasks run at once, each over and over, for `--seconds`: a read (one indexed SELECT,
outside a transaction, as HyperSend's single-statement reads run) and a write (a READ
COMMITTED transaction that numbers a message in its chat and inserts it, each task in its own
chat, as `POST /messages/` does). It prints transactions per second, the ratio to the
baseline, and the client process's CPU per transaction. Not part of the test suite.
"""

import argparse
import asyncio
import itertools
import os
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg
from tests.support.postgres import PostgresProcess

from hypersend.storage.postgres.database import PostgresDatabase
from hypersend.storage.postgres.schema import migrate
from hypersend.storage.sql.database import SqlConnection

READ = "SELECT id, email, name FROM users WHERE id = %s"
NUMBER = "UPDATE chats SET last_seq = last_seq + 1 WHERE id = %s RETURNING last_seq"
INSERT = (
    "INSERT INTO messages (id, chat_id, seq, sender_id, kind, text, created_at)"
    " VALUES (%s, %s, %s, 'u0', 'text', 'hello', '2026-11-30T00:00:00.000000Z')"
)

BASELINE = "psycopg on threads (HyperSend)"
RUN = uuid.uuid4().hex[:8]  # message ids stay unique when a measurement is repeated

Operation = Callable[[int, int], Awaitable[None]]  # (task, iteration)


def prepare(url: str, tasks: int) -> None:
    with psycopg.connect(url, autocommit=True) as connection:
        migrate(connection)  # type: ignore[arg-type]
        connection.execute(
            "INSERT INTO users (id, email, name, password_hash, created_at)"
            " VALUES ('u0', 'u0@example.org', 'U', 'x', 't')"
        )
        for task in range(tasks):
            connection.execute(
                "INSERT INTO chats (id, type, created_by, created_at, updated_at)"
                " VALUES (%s, 'group', 'u0', 't', 't')",
                (f"c{task}",),
            )


async def run(operation: Operation, tasks: int, seconds: float) -> tuple[float, float]:
    """Transactions per second and client CPU microseconds per transaction."""
    done = 0
    deadline = time.perf_counter() + seconds

    async def worker(task: int) -> None:
        nonlocal done
        for iteration in itertools.count():
            if time.perf_counter() > deadline:
                return
            await operation(task, iteration)
            done += 1

    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker(task) for task in range(tasks)))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return done / wall, cpu / done * 1e6


async def measure_threads(url: str, tasks: int, seconds: float) -> dict[str, tuple[float, float]]:
    db = PostgresDatabase(url, pool_size=tasks)
    await db.open()

    def read(c: SqlConnection) -> None:
        c.execute("SELECT id, email, name FROM users WHERE id = ?", ("u0",)).fetchone()

    def write(task: int, iteration: int) -> Callable[[SqlConnection], None]:
        def numbered(c: SqlConnection) -> None:
            (seq,) = c.execute(
                "UPDATE chats SET last_seq = last_seq + 1 WHERE id = ? RETURNING last_seq",
                (f"c{task}",),
            ).fetchone()
            c.execute(
                "INSERT INTO messages (id, chat_id, seq, sender_id, kind, text, created_at)"
                " VALUES (?, ?, ?, 'u0', 'text', 'hello', '2026-11-30T00:00:00.000000Z')",
                (f"t-{RUN}-{task}-{iteration}", f"c{task}", seq),
            )

        return numbered

    async def reading(task: int, iteration: int) -> None:
        await db.read(read)

    async def writing(task: int, iteration: int) -> None:
        await db.write(write(task, iteration))

    try:
        return {
            "read": await run(reading, tasks, seconds),
            "write": await run(writing, tasks, seconds),
        }
    finally:
        await db.close()


async def measure_psycopg_async(
    url: str, tasks: int, seconds: float
) -> dict[str, tuple[float, float]]:
    connections = [
        await psycopg.AsyncConnection.connect(url, autocommit=True) for _ in range(tasks)
    ]

    async def reading(task: int, iteration: int) -> None:
        await (await connections[task].execute(READ, ("u0",))).fetchone()

    async def writing(task: int, iteration: int) -> None:
        connection = connections[task]
        async with connection.transaction():
            row = await (await connection.execute(NUMBER, (f"c{task}",))).fetchone()
            assert row is not None
            await connection.execute(INSERT, (f"p-{RUN}-{task}-{iteration}", f"c{task}", row[0]))

    try:
        return {
            "read": await run(reading, tasks, seconds),
            "write": await run(writing, tasks, seconds),
        }
    finally:
        for connection in connections:
            await connection.close()


async def measure_asyncpg(url: str, tasks: int, seconds: float) -> dict[str, tuple[float, float]]:
    import asyncpg  # type: ignore[import-not-found, import-untyped, unused-ignore]

    pool: Any = await asyncpg.create_pool(url, min_size=tasks, max_size=tasks)

    async def reading(task: int, iteration: int) -> None:
        await pool.fetchrow("SELECT id, email, name FROM users WHERE id = $1", "u0")

    async def writing(task: int, iteration: int) -> None:
        async with pool.acquire() as connection, connection.transaction(isolation="read_committed"):
            seq = await connection.fetchval(
                "UPDATE chats SET last_seq = last_seq + 1 WHERE id = $1 RETURNING last_seq",
                f"c{task}",
            )
            await connection.execute(
                "INSERT INTO messages (id, chat_id, seq, sender_id, kind, text, created_at)"
                " VALUES ($1, $2, $3, 'u0', 'text', 'hello', '2026-11-30T00:00:00.000000Z')",
                f"a-{RUN}-{task}-{iteration}",
                f"c{task}",
                seq,
            )

    try:
        return {
            "read": await run(reading, tasks, seconds),
            "write": await run(writing, tasks, seconds),
        }
    finally:
        await pool.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=5)
    args = parser.parse_args()
    postgres = PostgresProcess(crash_safe=True).start()
    try:
        url = postgres.new_database()
        prepare(url, args.tasks)
        results = {
            "psycopg on threads (HyperSend)": await measure_threads(url, args.tasks, args.seconds)
        }
        results["psycopg async"] = await measure_psycopg_async(url, args.tasks, args.seconds)
        try:
            results["asyncpg"] = await measure_asyncpg(url, args.tasks, args.seconds)
        except ImportError:
            print("asyncpg is not installed (pip install asyncpg): left out")
    finally:
        postgres.remove()
    baseline = results[BASELINE]
    print(f"\n{args.tasks} tasks at once, {args.seconds:.0f} s each")
    columns = ("reads/s", "ratio", "µs CPU", "writes/s", "ratio", "µs CPU")
    print(f"{'driver':<32} " + " ".join(f"{column:>8}" for column in columns))
    for name, result in results.items():
        (reads, read_cpu), (writes, write_cpu) = result["read"], result["write"]
        print(
            f"{name:<32} {reads:>8.0f} {reads / baseline['read'][0]:>7.2f}x {read_cpu:>8.0f}"
            f" {writes:>8.0f} {writes / baseline['write'][0]:>7.2f}x {write_cpu:>8.0f}"
        )


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    asyncio.run(main())
