"""Every record of a SQL store (SQLite or PostgreSQL), page by page, from one read
transaction: a `CopySource` for `hypersend migrate`.

The engines open it (`sqlite.snapshot`, `postgres.snapshot`): each hands over a connection
already inside a read-only transaction and a way to make cursors that stream (SQLite's do;
PostgreSQL's must be server-side), so a server still running beside the copy cannot make
it inconsistent (though what it writes afterwards is not copied: stop it first).
"""

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, TypeVar

from hypersend.storage.copying import PAGE_SIZE, TABLES, ChatRecord, ChunkRecord, ThumbnailRecord
from hypersend.storage.models import (
    ChatMember,
    FileRecord,
    Invite,
    Message,
    Session,
    Thumbnail,
    Transfer,
    User,
)
from hypersend.storage.sql.chats import MEMBERS_SELECT, chat_from_row, member_from_row
from hypersend.storage.sql.database import Row
from hypersend.storage.sql.files import file_from_row
from hypersend.storage.sql.invites import invite_from_row
from hypersend.storage.sql.messages import MESSAGES_SELECT, message_from_row
from hypersend.storage.sql.sessions import session_from_row
from hypersend.storage.sql.transfers import transfer_from_row
from hypersend.storage.sql.users import user_from_row

R = TypeVar("R")

StreamingQuery = Callable[[str], Any]
"""Runs a query and returns a cursor to `fetchmany` its rows from."""


class SnapshotError(Exception):
    """The database is not a HyperSend database this version can read."""


class SqlSnapshot:
    def __init__(
        self, query: StreamingQuery, close: Callable[[], None], *, page_size: int = PAGE_SIZE
    ) -> None:
        self._query = query
        self._close = close
        self._page_size = page_size

    async def close(self) -> None:
        await asyncio.to_thread(self._close)

    async def counts(self) -> dict[str, int]:
        def count() -> dict[str, int]:
            return {
                table: int(self._query(f"SELECT count(*) FROM {table}").fetchone()[0])
                for table in TABLES
            }

        return await asyncio.to_thread(count)

    def users(self) -> AsyncIterator[list[User]]:
        return self._pages("SELECT * FROM users ORDER BY id", user_from_row)

    def sessions(self) -> AsyncIterator[list[Session]]:
        return self._pages("SELECT * FROM sessions ORDER BY id", session_from_row)

    def invites(self) -> AsyncIterator[list[Invite]]:
        return self._pages("SELECT * FROM invites ORDER BY code", invite_from_row)

    def chats(self) -> AsyncIterator[list[ChatRecord]]:
        return self._pages(
            "SELECT * FROM chats ORDER BY id",
            lambda row: ChatRecord(chat_from_row(row), row["last_message_id"], row["last_seq"]),
        )

    def chat_members(self) -> AsyncIterator[list[ChatMember]]:
        return self._pages(f"{MEMBERS_SELECT} ORDER BY cm.chat_id, cm.user_id", member_from_row)

    def messages(self) -> AsyncIterator[list[Message]]:
        return self._pages(f"{MESSAGES_SELECT} ORDER BY m.id", message_from_row)

    def files(self) -> AsyncIterator[list[FileRecord]]:
        return self._pages("SELECT * FROM files ORDER BY id", file_from_row)

    def file_chunks(self) -> AsyncIterator[list[ChunkRecord]]:
        return self._pages(
            "SELECT file_id, idx, sha256 FROM file_chunks ORDER BY file_id, idx",
            lambda row: ChunkRecord(row["file_id"], row["idx"], bytes(row["sha256"])),
        )

    def thumbnails(self) -> AsyncIterator[list[ThumbnailRecord]]:
        return self._pages(
            "SELECT file_id, mime, data FROM thumbnails ORDER BY file_id",
            lambda row: ThumbnailRecord(row["file_id"], Thumbnail(row["mime"], bytes(row["data"]))),
        )

    def transfers(self) -> AsyncIterator[list[Transfer]]:
        return self._pages("SELECT * FROM transfers ORDER BY id", transfer_from_row)

    async def _pages(self, query: str, to_record: Callable[[Row], R]) -> AsyncIterator[list[R]]:
        rows = await asyncio.to_thread(self._rows, query)
        while (page := await asyncio.to_thread(next, rows, None)) is not None:
            yield [to_record(row) for row in page]

    def _rows(self, query: str) -> Iterator[list[Row]]:
        cursor = self._query(query)
        while rows := cursor.fetchmany(self._page_size):
            yield rows
