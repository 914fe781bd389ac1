"""Where files' bytes are kept: what `FileService` asks of a store, whichever it is.

Two stores keep to it: the local disk under `DATA_ROOT/files` (`files/disk.py`, the default)
and an S3-compatible bucket (`files/s3/store.py`, when `S3_BUCKET` is set). The service keeps
the records (which chunks arrived, their digests, who may read what); a store only keeps bytes,
and promises that a chunk it has written is stored whole before `write_chunk` returns.
"""

from collections.abc import AsyncIterator, Awaitable, Callable, Collection
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from hypersend.errors import Conflict
from hypersend.storage.models import FileRecord


class ChunkSink(Protocol):
    """One upload, open for a chunk (see `FileStore.writing`)."""

    async def write_chunk(
        self,
        index: int,
        length: int,
        body: AsyncIterator[bytes],
        *,
        expected: bytes | None,
        staged: int = 0,
        synced: bool = True,
    ) -> bytes:
        """Store chunk `index` of `length` bytes; return its SHA-256. Its first `staged` bytes
        were kept before (`stage`), `body` carries exactly the rest. `expected` is the digest
        the client declared, for stores that check it themselves. With `synced` off, the
        chunk is durable only after a later `sync` (which may then cover several chunks)."""
        ...

    async def sync(self) -> None:
        """Make every chunk written so far durable (a store that flushes nothing: nothing)."""

    async def stage(self, index: int, start: int, length: int, body: AsyncIterator[bytes]) -> None:
        """Keep bytes `start`.. of chunk `index` (exactly `length` bytes of `body`), which
        does not end the chunk, until `write_chunk` takes them with the chunk's rest; bytes
        from `start` on that were staged before are replaced."""
        ...


@dataclass(frozen=True, slots=True)
class Leftover:
    """Bytes a store holds for an upload whose record may be gone (a crash in between)."""

    file_id: str
    upload_handle: str
    started: datetime


class FileStore(Protocol):
    async def check(self) -> None:
        """Raise `FileStoreUnavailable` with a clear reason when the store cannot be used."""

    async def check_room(self, size: int) -> None:
        """Refuse (`InsufficientStorage`) an upload of `size` bytes the store cannot take."""

    async def begin(self, record: FileRecord) -> str | None:
        """Prepare a new upload's place; the handle to keep in its record, if any."""

    def writing(self, record: FileRecord) -> AbstractAsyncContextManager[ChunkSink]:
        """The upload, open for a chunk until the block ends: record the chunk before leaving
        it (the disk store gives idle uploads' space back only between such blocks)."""
        ...

    async def finish(self, record: FileRecord, digests: dict[int, bytes]) -> None:
        """Make the complete upload one readable file (again, harmlessly, if it is already)."""

    async def holds_complete(self, record: FileRecord, digests: dict[int, bytes]) -> bool:
        """Whether the store holds the whole file as recorded (`hypersend move-files` skips
        it then)."""

    async def remove(self, record: FileRecord) -> None:
        """Forget the file's bytes, finished or not (nothing if there are none)."""

    async def give_back_idle(
        self, record: FileRecord, received: Callable[[], Awaitable[Collection[int]]]
    ) -> None:
        """Free what an idle upload holds beyond the chunks it has received (asked for with
        `received` once no chunk can be written meanwhile), if the store holds anything for
        it; the upload takes it again with its next chunk."""

    def leftovers(self, started_before: datetime) -> AsyncIterator[Leftover]:
        """Unfinished uploads the store holds that began before `started_before`."""
        ...

    async def discard(self, leftover: Leftover) -> None:
        """Drop a leftover whose upload has no record."""

    def local_path(self, file_id: str) -> Path | None:
        """The file on this machine's disk, for responses sent straight from it (None when
        the bytes live elsewhere)."""
        ...

    def open_read(
        self, record: FileRecord, first: int, last: int
    ) -> AbstractAsyncContextManager[AsyncIterator[bytes]]:
        """The file's bytes `first`..`last` (inclusive); `FileMissing` when the store has no
        such file."""
        ...

    def presigned_url(
        self, record: FileRecord, expires_seconds: int, disposition: str
    ) -> str | None:
        """A URL of the store itself that downloads the file without the server, or None."""
        ...

    async def close(self) -> None:
        """Let go of connections."""


class UploadRestartNeeded(Conflict):
    """An upload begun in the other store, before the files moved (`hypersend move-files`
    moves only complete files)."""

    code = "upload_restart_needed"

    def __init__(self) -> None:
        super().__init__("This upload began before files moved; start it again")


class FileMissing(Exception):
    """The store has no bytes for a file whose record says it is complete."""
