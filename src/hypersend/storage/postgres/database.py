"""PostgreSQL as a `SqlDatabase`: psycopg 3 connections, one per worker thread.

Why psycopg's blocking API on threads rather than an asyncio driver: the repositories are
written once as plain functions of a connection and run unchanged on SQLite (whose driver
is blocking anyway) and here. `bench/postgres_drivers.py` measures it against psycopg's and
asyncpg's asyncio APIs on the same queries: writes (what a chat server does per message) cost
the same through all three; a single read costs about three times the client CPU on threads,
and the hot paths read little (bench/README.md).

- A `write` is READ COMMITTED (PostgreSQL's default; what a write function must then take
  care of: `storage/sql/database.py`), or SERIALIZABLE when it asks to be. When PostgreSQL
  reports a conflict with a concurrent transaction (or a deadlock) the function is run again
  on a fresh transaction, with a short random back-off.
- A `read` runs its statements as they come (each sees what is committed when it starts),
  or, asked for a snapshot, in one REPEATABLE READ, READ ONLY transaction.
- A connection found dead when its transaction starts (PostgreSQL restarted, a proxy
  dropped it) is replaced by a new one and the work tried on that: nothing was sent yet.
  Lost later, the outcome of a write is unknown: `StorageUnavailable` (503 to clients), as
  when no connection can be opened at all (which fails at once while PostgreSQL is down,
  and works again as soon as it is back: no back-off to wait out).
"""

import asyncio
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import psycopg
from psycopg import errors

from hypersend.storage.errors import StorageUnavailable
from hypersend.storage.postgres.placeholders import SharedSqlConnection
from hypersend.storage.postgres.rows import Row, named_rows
from hypersend.storage.postgres.schema import migrate
from hypersend.storage.sql.database import SqlConnection, UniqueViolation
from hypersend.storage.sql.text_search import POSTGRES_SEARCH
from hypersend.urls import redacted

T = TypeVar("T")

CONNECT_SECONDS = 5  # to open a connection (at start, or again after losing one)
CONFLICT_RETRIES = 30
_WRITE = "BEGIN ISOLATION LEVEL READ COMMITTED"
_SERIALIZABLE = "BEGIN ISOLATION LEVEL SERIALIZABLE"
_SNAPSHOT = "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY"


class PostgresDatabase:
    """`pool_size` worker threads, each with a connection of its own, opened when first
    needed and opened again when found dead: at most `pool_size` connections per process."""

    text_search = POSTGRES_SEARCH

    def __init__(self, url: str, *, pool_size: int) -> None:
        self.url = url
        self._threads = ThreadPoolExecutor(pool_size, thread_name_prefix="postgres")
        self._local = threading.local()
        self._connections: set[psycopg.Connection[Row]] = set()
        self._connections_lock = threading.Lock()

    async def open(self) -> None:
        """Connect and bring the schema up to date (once, however many processes start)."""
        try:
            await self._run(self._open)
        except BaseException:
            await self.close()
            raise

    def _open(self) -> None:
        try:
            connection = self._connection()
        except psycopg.Error as exc:
            raise _unreachable(self.url, exc) from exc
        migrate(connection)

    async def write(self, work: Callable[[SqlConnection], T], *, serializable: bool = False) -> T:
        begin = _SERIALIZABLE if serializable else _WRITE
        return await self._run(lambda: self._transaction(begin, work))

    async def read(self, work: Callable[[SqlConnection], T], *, snapshot: bool = False) -> T:
        return await self._run(lambda: self._transaction(_SNAPSHOT if snapshot else None, work))

    async def close(self) -> None:
        await asyncio.get_running_loop().run_in_executor(None, self._shutdown)

    def _shutdown(self) -> None:
        self._threads.shutdown(wait=True)
        with self._connections_lock:
            for connection in self._connections:
                connection.close()
            self._connections.clear()

    async def _run(self, call: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._threads, call)

    def _transaction(self, begin: str | None, work: Callable[[SqlConnection], T]) -> T:
        """Run `work` after `begin` (None: no transaction, for reads), again on conflicts."""
        conflicts = 0
        while True:
            try:
                return self._attempt(begin, work)
            except (errors.SerializationFailure, errors.DeadlockDetected) as exc:
                conflicts += 1
                if conflicts > CONFLICT_RETRIES:
                    raise StorageUnavailable(f"too many write conflicts: {exc}") from exc
                time.sleep(random.uniform(0, 0.001 * 2 ** min(conflicts, 7)))
            except errors.UniqueViolation as exc:
                raise UniqueViolation(str(exc)) from exc
            except psycopg.OperationalError as exc:
                raise StorageUnavailable(f"PostgreSQL: {_reason(exc)}") from exc

    def _attempt(self, begin: str | None, work: Callable[[SqlConnection], T]) -> T:
        """Once, or twice when the connection turns out dead before anything that matters
        reached the server: at `begin`, or anywhere in a read (reads can run again)."""
        for last_try in (False, True):
            connection = self._connection()
            try:
                if begin is None:
                    return work(SharedSqlConnection(connection))
                connection.execute(begin)
            except psycopg.OperationalError:
                if not connection.broken:
                    raise
                self._forget(connection)  # dead since its last use (PostgreSQL restarted)
                if last_try:
                    raise
                continue
            try:
                return _run_and_commit(connection, work)
            finally:
                if connection.broken:
                    self._forget(connection)
        raise AssertionError("unreachable")

    def _connection(self) -> psycopg.Connection[Row]:
        """This thread's connection, opened now if it has none."""
        connection: psycopg.Connection[Row] | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = psycopg.connect(
                self.url,
                autocommit=True,
                row_factory=named_rows,
                connect_timeout=CONNECT_SECONDS,
                application_name="hypersend",
            )
            self._local.connection = connection
            with self._connections_lock:
                self._connections.add(connection)
        return connection

    def _forget(self, connection: psycopg.Connection[Row]) -> None:
        connection.close()
        self._local.connection = None
        with self._connections_lock:
            self._connections.discard(connection)


def _run_and_commit(connection: psycopg.Connection[Row], work: Callable[[SqlConnection], T]) -> T:
    try:
        result = work(SharedSqlConnection(connection))
        connection.execute("COMMIT")
    except BaseException:
        if not connection.broken:
            connection.execute("ROLLBACK")
        raise
    return result


def connect(url: str) -> psycopg.Connection[Row]:
    """A connection (not in autocommit mode) for work outside the server's own: start-up
    checks, copies. `StorageUnavailable` naming `DATABASE_URL` when PostgreSQL refuses."""
    try:
        return psycopg.connect(url, row_factory=named_rows, connect_timeout=CONNECT_SECONDS)
    except psycopg.Error as exc:
        raise _unreachable(url, exc) from exc


def check_reachable(url: str) -> None:
    """Connect once (for start-up checks); `StorageUnavailable` naming `DATABASE_URL` if not."""
    with connect(url) as connection:
        connection.execute("SELECT 1")


def _unreachable(url: str, exc: psycopg.Error) -> StorageUnavailable:
    return StorageUnavailable(
        f"cannot reach PostgreSQL at DATABASE_URL={redacted(url)}: {_reason(exc)}"
    )


def _reason(exc: psycopg.Error) -> str:
    """The telling last line of a driver error (connection errors list every address tried)."""
    text = str(exc).strip()
    return text.splitlines()[-1] if text else type(exc).__name__
