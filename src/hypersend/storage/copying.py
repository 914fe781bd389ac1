"""Copying a whole installation from one store to another (`hypersend migrate`), whichever two
of SQLite, PostgreSQL and MongoDB they are.

A source hands out every table's records in pages, from one consistent snapshot where the
engine has one; a target writes each page in one go, skipping what it holds already (by id),
so running a copy again after an interruption finishes it without duplicating anything.
Memory stays constant whatever the size of the installation. Only the database moves: the
files' bytes and the secret key stay under `DATA_ROOT`.
"""

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from hypersend.storage.models import (
    Chat,
    ChatMember,
    FileRecord,
    Invite,
    Message,
    Session,
    Thumbnail,
    Transfer,
    User,
)

R = TypeVar("R")

PAGE_SIZE = 1000

TABLES = (
    "users",
    "sessions",
    "invites",
    "chats",
    "chat_members",
    "files",
    "file_chunks",
    "thumbnails",
    "messages",
    "transfers",
)
"""Parents before children, as the server would have written them."""

Progress = Callable[[str, int], None]
"""Called after each page with the table's name and how many of its records are copied."""


@dataclass(frozen=True, slots=True)
class ChatRecord:
    """A chat with what the store keeps beside it."""

    chat: Chat
    last_message_id: str | None
    last_seq: int


@dataclass(frozen=True, slots=True)
class ChunkRecord:
    file_id: str
    index: int
    sha256: bytes


@dataclass(frozen=True, slots=True)
class ThumbnailRecord:
    file_id: str
    thumbnail: Thumbnail


class CopyError(Exception):
    """The copy cannot start or did not finish; the message says why, for people."""


class CopySource(Protocol):
    async def counts(self) -> dict[str, int]:
        """How many records each of `TABLES` holds."""

    def users(self) -> AsyncIterator[list[User]]: ...
    def sessions(self) -> AsyncIterator[list[Session]]: ...
    def invites(self) -> AsyncIterator[list[Invite]]: ...
    def chats(self) -> AsyncIterator[list[ChatRecord]]: ...
    def chat_members(self) -> AsyncIterator[list[ChatMember]]: ...
    def files(self) -> AsyncIterator[list[FileRecord]]: ...
    def file_chunks(self) -> AsyncIterator[list[ChunkRecord]]: ...
    def thumbnails(self) -> AsyncIterator[list[ThumbnailRecord]]: ...
    def messages(self) -> AsyncIterator[list[Message]]: ...
    def transfers(self) -> AsyncIterator[list[Transfer]]: ...


class CopyTarget(Protocol):
    async def counts(self) -> dict[str, int]: ...

    async def user_ids(self) -> set[str]:
        """Every account the target holds."""

    async def put_users(self, page: list[User]) -> None: ...
    async def put_sessions(self, page: list[Session]) -> None: ...
    async def put_invites(self, page: list[Invite]) -> None: ...
    async def put_chats(self, page: list[ChatRecord]) -> None: ...
    async def put_chat_members(self, page: list[ChatMember]) -> None: ...
    async def put_files(self, page: list[FileRecord]) -> None: ...
    async def put_file_chunks(self, page: list[ChunkRecord]) -> None: ...
    async def put_thumbnails(self, page: list[ThumbnailRecord]) -> None: ...
    async def put_messages(self, page: list[Message]) -> None: ...
    async def put_transfers(self, page: list[Transfer]) -> None: ...


async def copy_all(source: CopySource, target: CopyTarget, progress: Progress) -> dict[str, int]:
    """Copy every table, then compare counts; return them. `CopyError` when the target holds
    accounts the source does not (it is in use: copy into an empty one), or when the counts
    differ afterwards."""
    expected = await source.counts()
    source_users = {user.id async for page in source.users() for user in page}
    foreign = await target.user_ids() - source_users
    if foreign:
        raise CopyError(
            f"the target already holds {len(foreign)} account(s) that are not in the source:"
            " copy into an empty database"
        )
    await _copy("users", source.users(), target.put_users, progress)
    await _copy("sessions", source.sessions(), target.put_sessions, progress)
    await _copy("invites", source.invites(), target.put_invites, progress)
    await _copy("chats", source.chats(), target.put_chats, progress)
    await _copy("chat_members", source.chat_members(), target.put_chat_members, progress)
    await _copy("files", source.files(), target.put_files, progress)
    await _copy("file_chunks", source.file_chunks(), target.put_file_chunks, progress)
    await _copy("thumbnails", source.thumbnails(), target.put_thumbnails, progress)
    await _copy("messages", source.messages(), target.put_messages, progress)
    await _copy("transfers", source.transfers(), target.put_transfers, progress)
    copied = await target.counts()
    wrong = {table: n for table, n in expected.items() if copied.get(table) != n}
    if wrong:
        details = ", ".join(f"{t}: {copied.get(t, 0)} of {n}" for t, n in wrong.items())
        raise CopyError(f"the copy does not match the source ({details}); run it again")
    return copied


async def _copy(
    table: str,
    pages: AsyncIterator[list[R]],
    put: Callable[[list[R]], Any],
    progress: Progress,
) -> None:
    copied = 0
    progress(table, copied)
    async for page in pages:
        await put(page)
        copied += len(page)
        progress(table, copied)
