"""An asyncio front for the standard `sqlite3` module: the `SqlDatabase` of one machine.

Writes run one at a time on a dedicated thread, each function inside one transaction, so a
repository method that needs several statements is atomic without any locking of its own.
Reads run on a small pool of read-only connections (in one read transaction when they ask
for a snapshot): WAL mode lets them proceed while a write is in progress. The event loop never
waits on the disk.
"""

import asyncio
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from hypersend.storage.sql.database import SqlConnection, UniqueViolation
from hypersend.storage.sql.text_search import SQLITE_SEARCH
from hypersend.storage.sqlite.migrations import migrate

T = TypeVar("T")

READER_THREADS = 4


class SqliteDatabase:
    text_search = SQLITE_SEARCH

    def __init__(self, path: Path, *, durable: bool) -> None:
        self.path = path
        self._synchronous = "FULL" if durable else "NORMAL"
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._connections_lock = threading.Lock()
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="sqlite-writer")
        self._readers = ThreadPoolExecutor(READER_THREADS, thread_name_prefix="sqlite-reader")

    async def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        await self._run(self._writer, self._writable, migrate)

    async def write(self, work: Callable[[SqlConnection], T], *, serializable: bool = False) -> T:
        """Run `work` in one transaction on the writer thread; roll back if it raises. Every
        write is serializable here: there is one writer at a time."""
        try:
            return await self._run(self._writer, self._writable, _transaction("IMMEDIATE", work))
        except sqlite3.IntegrityError as exc:
            if "UNIQUE" not in str(exc):
                raise
            raise UniqueViolation(str(exc)) from exc

    async def read(self, work: Callable[[SqlConnection], T], *, snapshot: bool = False) -> T:
        return await self._run(
            self._readers, self._read_only, _transaction("DEFERRED", work) if snapshot else work
        )

    async def close(self) -> None:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, self._shutdown)

    def _shutdown(self) -> None:
        self._writer.shutdown(wait=True)
        self._readers.shutdown(wait=True)
        with self._connections_lock:
            for connection in self._connections:
                connection.close()
            self._connections.clear()

    async def _run(
        self,
        executor: ThreadPoolExecutor,
        connect: Callable[[], sqlite3.Connection],
        work: Callable[[sqlite3.Connection], T],
    ) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(executor, lambda: work(connect()))

    def _writable(self) -> sqlite3.Connection:
        return self._thread_connection(read_only=False)

    def _read_only(self) -> sqlite3.Connection:
        return self._thread_connection(read_only=True)

    def _thread_connection(self, *, read_only: bool) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is not None:
            return connection
        connection = sqlite3.connect(
            self.path, isolation_level=None, check_same_thread=False, timeout=30
        )
        connection.row_factory = sqlite3.Row
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute(f"PRAGMA synchronous={self._synchronous}")
        connection.execute("PRAGMA foreign_keys=ON")
        connection.execute("PRAGMA busy_timeout=30000")
        if read_only:
            connection.execute("PRAGMA query_only=ON")
        self._local.connection = connection
        with self._connections_lock:
            self._connections.append(connection)
        return connection


def _transaction(
    mode: str, work: Callable[[SqlConnection], T]
) -> Callable[[sqlite3.Connection], T]:
    def transaction(connection: sqlite3.Connection) -> T:
        connection.execute(f"BEGIN {mode}")
        try:
            result = work(connection)
        except BaseException:
            connection.rollback()
            raise
        connection.commit()
        return result

    return transaction
