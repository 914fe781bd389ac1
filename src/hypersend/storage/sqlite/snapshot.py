"""Every record of an embedded database, read page by page from one consistent snapshot.

`hypersend migrate` copies a SQLite deployment into MongoDB with it. The database is opened
read-only and read inside a single transaction, so a server still running beside it cannot
make the copy inconsistent (though what it writes afterwards is not copied: stop it first).
"""

import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Self, TypeVar

from hypersend.storage.models import (
    Chat,
    ChatMember,
    FileRecord,
    Invite,
    Message,
    Session,
    Transfer,
    User,
)
from hypersend.storage.sql.accounts import session_from_row, user_from_row
from hypersend.storage.sql.conversations import (
    MEMBERS_SELECT,
    MESSAGES_SELECT,
    chat_from_row,
    member_from_row,
    message_from_row,
)
from hypersend.storage.sql.files import file_from_row
from hypersend.storage.sql.invites import invite_from_row
from hypersend.storage.sql.transfers import transfer_from_row
from hypersend.storage.sqlite.migrations import MIGRATIONS

R = TypeVar("R")

PAGE_SIZE = 1000


@dataclass(frozen=True, slots=True)
class ChatRecord:
    chat: Chat
    last_message_id: str | None
    last_seq: int


@dataclass(frozen=True, slots=True)
class ChunkRecord:
    file_id: str
    index: int
    sha256: bytes


class SnapshotError(Exception):
    """The file is not a HyperSend database this version can read."""


class SqliteSnapshot:
    """Open with `SqliteSnapshot.open(path)`; each method yields its table in pages."""

    def __init__(self, connection: sqlite3.Connection, page_size: int) -> None:
        self._connection = connection
        self._page_size = page_size

    @classmethod
    def open(cls, path: Path, *, page_size: int = PAGE_SIZE) -> Self:
        if not path.is_file():
            raise SnapshotError(f"{path} does not exist")
        # check_same_thread=False: callers read pages from worker threads, one at a time.
        connection = sqlite3.connect(
            f"{path.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False
        )
        connection.row_factory = sqlite3.Row
        try:
            version = int(connection.execute("PRAGMA user_version").fetchone()[0])
        except sqlite3.DatabaseError as exc:
            connection.close()
            raise SnapshotError(f"{path} is not a SQLite database: {exc}") from exc
        if version != len(MIGRATIONS):
            connection.close()
            raise SnapshotError(
                f"{path} is at schema version {version}, this HyperSend expects"
                f" {len(MIGRATIONS)}: start the server once on it to upgrade it, then stop it"
            )
        connection.execute("BEGIN")  # one read transaction: every table from the same moment
        return cls(connection, page_size)

    def close(self) -> None:
        self._connection.close()

    def counts(self) -> dict[str, int]:
        """How many rows each table holds, by table name."""
        return {
            table: int(self._connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
            for table in TABLES
        }

    def users(self) -> Iterator[list[User]]:
        return self._pages("SELECT * FROM users ORDER BY id", user_from_row)

    def sessions(self) -> Iterator[list[Session]]:
        return self._pages("SELECT * FROM sessions ORDER BY id", session_from_row)

    def invites(self) -> Iterator[list[Invite]]:
        return self._pages("SELECT * FROM invites ORDER BY code", invite_from_row)

    def chats(self) -> Iterator[list[ChatRecord]]:
        return self._pages(
            "SELECT * FROM chats ORDER BY id",
            lambda row: ChatRecord(chat_from_row(row), row["last_message_id"], row["last_seq"]),
        )

    def chat_members(self) -> Iterator[list[ChatMember]]:
        return self._pages(f"{MEMBERS_SELECT} ORDER BY cm.chat_id, cm.user_id", member_from_row)

    def messages(self) -> Iterator[list[Message]]:
        return self._pages(f"{MESSAGES_SELECT} ORDER BY m.id", message_from_row)

    def files(self) -> Iterator[list[FileRecord]]:
        return self._pages("SELECT * FROM files ORDER BY id", file_from_row)

    def file_chunks(self) -> Iterator[list[ChunkRecord]]:
        return self._pages(
            "SELECT file_id, idx, sha256 FROM file_chunks ORDER BY file_id, idx",
            lambda row: ChunkRecord(row["file_id"], row["idx"], bytes(row["sha256"])),
        )

    def transfers(self) -> Iterator[list[Transfer]]:
        return self._pages("SELECT * FROM transfers ORDER BY id", transfer_from_row)

    def _pages(self, query: str, to_record: Callable[[sqlite3.Row], R]) -> Iterator[list[R]]:
        cursor = self._connection.execute(query)
        while rows := cursor.fetchmany(self._page_size):
            yield [to_record(row) for row in rows]


TABLES = (
    "users",
    "sessions",
    "invites",
    "chats",
    "chat_members",
    "files",
    "file_chunks",
    "messages",
    "transfers",
)
