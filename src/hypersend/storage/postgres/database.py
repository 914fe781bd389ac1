"""PostgreSQL as a `SqlDatabase`: psycopg 3 connections from a pool, used on worker threads.

Why psycopg's blocking API on threads rather than an asyncio driver: the repositories are
written once as plain functions of a connection and run unchanged on SQLite (whose driver
is blocking anyway) and here; `bench/postgres_drivers.py` measures the thread hop against
psycopg's and asyncpg's asyncio APIs on the same queries.

- Every `write` is SERIALIZABLE: it behaves as if it were the only writer, as on SQLite, so a
  write function may read, decide and write without locks of its own. When PostgreSQL
  reports a conflict with a concurrent transaction (or a deadlock) the function is run again
  on a fresh transaction, with a short random back-off.
- Every `read` is one REPEATABLE READ, READ ONLY transaction: one snapshot.
- A connection found dead when its transaction starts (PostgreSQL restarted, a proxy
  dropped it) is thrown away and the work tried on another: nothing was sent yet. Lost later,
  the outcome of a write is unknown: `StorageUnavailable` (503 to clients), as when no
  connection can be had at all.
"""

import asyncio
import random
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import psycopg
from psycopg import errors
from psycopg_pool import ConnectionPool, PoolTimeout

from hypersend.storage.errors import StorageUnavailable
from hypersend.storage.postgres.placeholders import to_psycopg
from hypersend.storage.postgres.rows import Row, named_rows
from hypersend.storage.postgres.schema import migrate
from hypersend.storage.sql.database import Parameters, SqlConnection, SqlCursor, UniqueViolation
from hypersend.urls import redacted

T = TypeVar("T")

CONNECT_SECONDS = 10.0  # to reach the database at start
WAIT_SECONDS = 5.0  # for a free connection, then 503: the database is down or overwhelmed
CONFLICT_RETRIES = 30
_WRITE = "BEGIN ISOLATION LEVEL SERIALIZABLE"
_READ = "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY"


class _Connection:
    """A psycopg connection speaking the shared SQL's parameter style."""

    __slots__ = ("_connection",)

    def __init__(self, connection: psycopg.Connection[Row]) -> None:
        self._connection = connection

    def execute(self, sql: str, parameters: Parameters = (), /) -> SqlCursor:
        if not parameters:
            return self._connection.execute(sql)
        return self._connection.execute(to_psycopg(sql), parameters)

    def executemany(self, sql: str, parameters: Sequence[Parameters], /) -> SqlCursor:
        cursor = self._connection.cursor()
        if parameters:
            cursor.executemany(to_psycopg(sql), parameters)
        return cursor


class PostgresDatabase:
    def __init__(self, url: str, *, pool_size: int) -> None:
        self.url = url
        self._pool: ConnectionPool[psycopg.Connection[Row]] = ConnectionPool(
            url,
            min_size=1,
            max_size=pool_size,
            open=False,
            timeout=WAIT_SECONDS,
            name="hypersend",
            kwargs={"autocommit": True, "row_factory": named_rows},
        )
        self._threads = ThreadPoolExecutor(pool_size, thread_name_prefix="postgres")
        self._attempts_on_dead_connections = pool_size + 1

    async def open(self) -> None:
        """Connect and bring the schema up to date (once, however many processes start)."""
        try:
            await self._run(self._open)
        except BaseException:
            self._threads.shutdown(wait=False)
            raise

    def _open(self) -> None:
        check_reachable(self.url)  # fails at once, with PostgreSQL's reason
        try:
            self._pool.open(wait=True, timeout=CONNECT_SECONDS)
        except PoolTimeout as exc:
            self._pool.close()
            raise StorageUnavailable(
                f"cannot reach PostgreSQL at DATABASE_URL={redacted(self.url)}"
                f" within {CONNECT_SECONDS:.0f} s"
            ) from exc
        with self._pool.connection() as connection:
            migrate(connection)

    async def write(self, work: Callable[[SqlConnection], T]) -> T:
        return await self._run(lambda: self._transaction(_WRITE, work))

    async def read(self, work: Callable[[SqlConnection], T]) -> T:
        return await self._run(lambda: self._transaction(_READ, work))

    async def close(self) -> None:
        await asyncio.get_running_loop().run_in_executor(None, self._shutdown)

    def _shutdown(self) -> None:
        self._threads.shutdown(wait=True)
        self._pool.close()

    async def _run(self, call: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._threads, call)

    def _transaction(self, begin: str, work: Callable[[SqlConnection], T]) -> T:
        conflicts = dead = 0
        while True:
            try:
                with self._pool.connection() as connection:
                    try:
                        connection.execute(begin)
                    except psycopg.OperationalError:
                        if not connection.broken:
                            raise
                        dead += 1
                        if dead >= self._attempts_on_dead_connections:
                            raise
                        continue  # the pool drops it on return; nothing was sent yet
                    return _run_and_commit(connection, work)
            except (errors.SerializationFailure, errors.DeadlockDetected) as exc:
                conflicts += 1
                if conflicts > CONFLICT_RETRIES:
                    raise StorageUnavailable(f"too many write conflicts: {exc}") from exc
                time.sleep(random.uniform(0, 0.002 * min(conflicts, 10)))
            except errors.UniqueViolation as exc:
                raise UniqueViolation(str(exc)) from exc
            except (psycopg.OperationalError, PoolTimeout) as exc:
                raise StorageUnavailable(f"PostgreSQL: {exc}") from exc


def _run_and_commit(connection: psycopg.Connection[Row], work: Callable[[SqlConnection], T]) -> T:
    try:
        result = work(_Connection(connection))
        connection.execute("COMMIT")
    except BaseException:
        if not connection.broken:
            connection.execute("ROLLBACK")
        raise
    return result


def check_reachable(url: str) -> None:
    """Connect once (for start-up checks); `StorageUnavailable` naming `DATABASE_URL` if not."""
    try:
        with psycopg.connect(url, connect_timeout=int(CONNECT_SECONDS)) as connection:
            connection.execute("SELECT 1")
    except psycopg.Error as exc:
        reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        raise StorageUnavailable(
            f"cannot reach PostgreSQL at DATABASE_URL={redacted(url)}: {reason}"
        ) from exc
