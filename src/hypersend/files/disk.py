"""File bytes on this machine's disk: one preallocated file per upload, named by id, written
chunk by chunk at its offsets (the default file store).

An upload's file holds its whole size on disk from the start (`fallocate`), so that an upload
that was accepted cannot run out of room half-way. An upload left idle gives the blocks it has
not written back (`give_back_idle`), and takes them again with its next chunk (`writing`), if
the disk still has room. The two meet on the file's own `flock`, which every process on the
machine sees: a writer holds it shared from its first byte until its chunk is recorded, the
release takes it exclusively and only when no one writes, so a hole is never punched under a
chunk that is being written or that was recorded.
"""

import asyncio
import contextlib
import errno
import fcntl
import hashlib
import logging
import os
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Iterator
from datetime import datetime
from pathlib import Path

from hypersend.errors import FileStoreUnavailable, InsufficientStorage
from hypersend.files.direct_io import AlignedWriter, aligned_buffer, write_at
from hypersend.files.holes import punch_hole
from hypersend.files.store import FileMissing, Leftover, UploadRestartNeeded
from hypersend.files.streaming import DirectBody, digest_of, write_batches, write_hashed
from hypersend.storage.models import FileRecord
from hypersend.worker_threads import to_the_end

logger = logging.getLogger("hypersend.files")

READ_PIECE = 1024 * 1024


class DiskStore:
    def __init__(self, root: Path, *, durable: bool, direct: bool, min_free_bytes: int) -> None:
        self.root = root
        self.durable = durable
        self.direct = direct
        self.min_free_bytes = min_free_bytes

    def local_path(self, file_id: str) -> Path:
        """Where a file's bytes live: derived from its server-made id, never a client's name."""
        return self.root / self.relative_path(file_id)

    @staticmethod
    def relative_path(file_id: str) -> str:
        """`path` below the files directory (what nginx's internal location serves)."""
        return f"{file_id[-2:]}/{file_id}"

    async def check(self) -> None:
        if not await asyncio.to_thread(os.access, self.root, os.W_OK):
            raise FileStoreUnavailable(f"{self.root} is not writable")

    async def check_room(self, size: int) -> None:
        """Refuse (507) to take `size` more bytes when that leaves less than the free space
        kept for everyone else."""
        free = (await asyncio.to_thread(shutil.disk_usage, self.root)).free
        if free - size < self.min_free_bytes:
            raise InsufficientStorage("The server does not have room for this file")

    async def begin(self, record: FileRecord) -> None:
        """Create the target file with its blocks reserved (`fallocate`). Where the file
        system cannot reserve, the file is made sparse at its full size."""

        def create() -> None:
            path = self.local_path(record.id)
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                _reserve(fd, record.size)
            except BaseException:
                os.close(fd)
                path.unlink(missing_ok=True)
                raise
            os.close(fd)

        await asyncio.to_thread(create)

    async def finish(self, record: FileRecord, digests: dict[int, bytes]) -> None:
        """Nothing to do: the chunks are already in place in the one file."""

    async def holds_complete(self, record: FileRecord, digests: dict[int, bytes]) -> bool:
        """The file is there at its size and every chunk hashes to its digest (a copy cut
        short has its full size already: only the hashes tell)."""
        try:
            if (await asyncio.to_thread(self.local_path(record.id).stat)).st_size != record.size:
                return False
        except FileNotFoundError:
            return False
        for index in range(record.total_chunks):
            first = index * record.chunk_size
            last = first + record.chunk_length(index) - 1
            async with self.open_read(record, first, last) as stream:
                if await digest_of(stream, last + 1 - first) != digests.get(index):
                    return False
        return True

    async def remove(self, record: FileRecord) -> None:
        await asyncio.to_thread(self.local_path(record.id).unlink, missing_ok=True)

    @contextlib.asynccontextmanager
    async def writing(self, record: FileRecord) -> AsyncIterator["OpenFile"]:
        """The upload's file, open for chunks, its space reserved again if an idle spell gave
        it back (507 when the disk no longer has room), and safe from `give_back_idle` until
        the block ends."""
        try:
            fd, stat = await asyncio.to_thread(_open_shared, self.local_path(record.id))
        except FileNotFoundError as exc:  # begun in a bucket, before files moved to the disk
            raise UploadRestartNeeded from exc
        try:
            missing = stat.st_size - stat.st_blocks * 512
            if missing > 0:
                await self.check_room(missing)
                await asyncio.to_thread(_reserve, fd, stat.st_size)
            yield OpenFile(fd, record.chunk_size, durable=self.durable, direct=self.direct)
        finally:
            os.close(fd)  # and with it the lock

    async def give_back_idle(
        self, record: FileRecord, received: Callable[[], Awaitable[Collection[int]]]
    ) -> None:
        """Punch holes where the chunks not received would go, when the file still holds its
        reservation and no process is writing to it (else: at a later sweep). What was
        received is asked for under the lock, so no chunk recorded before it is missed."""

        def open_idle() -> int | None:
            try:
                fd = os.open(self.local_path(record.id), os.O_WRONLY)
            except FileNotFoundError:  # removed meanwhile, or kept by another machine
                return None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                stat = os.fstat(fd)
            except BlockingIOError:  # a chunk is being written: not idle after all
                os.close(fd)
                return None
            if stat.st_blocks * 512 < stat.st_size:  # given back already
                os.close(fd)
                return None
            return fd

        def punch(fd: int, ranges: list[tuple[int, int]]) -> int:
            before = os.fstat(fd).st_blocks
            for offset, length in ranges:
                if not punch_hole(fd, offset, length):
                    break
            return (before - os.fstat(fd).st_blocks) * 512

        fd = await asyncio.to_thread(open_idle)
        if fd is None:
            return
        try:
            ranges = _unreceived_ranges(record, await received())
            freed = await asyncio.to_thread(punch, fd, ranges)
        finally:
            os.close(fd)
        logger.info("Upload %s idle: gave back %d bytes of disk", record.id, freed)

    async def leftovers(self, started_before: datetime) -> AsyncIterator[Leftover]:
        """None kept apart: a disk upload's file is made just before its record."""
        return
        yield

    async def discard(self, leftover: Leftover) -> None:
        await asyncio.to_thread(self.local_path(leftover.file_id).unlink, missing_ok=True)

    @contextlib.asynccontextmanager
    async def open_read(
        self, record: FileRecord, first: int, last: int
    ) -> AsyncIterator[AsyncIterator[bytes]]:
        try:
            handle = await asyncio.to_thread(self.local_path(record.id).open, "rb")
        except FileNotFoundError as exc:
            raise FileMissing(record.id) from exc
        try:
            yield _read(handle.fileno(), first, last)
        finally:
            handle.close()

    def presigned_url(self, record: FileRecord, expires_seconds: int, disposition: str) -> None:
        return None

    async def close(self) -> None:
        pass


class OpenFile:
    """An upload's file while a chunk is written to it (see `DiskStore.writing`). A staged
    chunk's first bytes are simply written in place: the chunk's rest follows them."""

    def __init__(self, fd: int, chunk_size: int, *, durable: bool, direct: bool) -> None:
        self._fd = fd
        self._chunk_size = chunk_size
        self._durable = durable
        self._direct = direct

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
        """Write the chunk's bytes after its `staged` ones at their offset; return the digest
        of the whole chunk (the staged bytes read back for it)."""
        offset = index * self._chunk_size
        hasher = hashlib.sha256()
        if staged:
            async for piece in _read(self._fd, offset, offset + staged - 1):
                hasher.update(piece)
        digest = await self._write(body, length - staged, offset + staged, hasher)
        if synced:
            await self.sync()
        return digest

    async def stage(self, index: int, start: int, length: int, body: AsyncIterator[bytes]) -> None:
        """Write the first bytes of a chunk not yet whole, unhashed: `write_chunk` reads them
        back and hashes them with the rest."""
        position = index * self._chunk_size + start
        fd = self._fd
        with _full_disk_is_507():
            await write_batches(body, length, lambda batch, at: write_at(fd, batch, position + at))
        await self.sync()

    async def sync(self) -> None:
        """One `fdatasync` of the file, for every chunk written since the last (when the
        store is durable)."""
        if self._durable:
            with _full_disk_is_507():
                await asyncio.to_thread(os.fdatasync, self._fd)

    async def _write(
        self, body: AsyncIterator[bytes], length: int, position: int, hasher: "hashlib._Hash"
    ) -> bytes:
        """Write exactly `length` bytes of `body` at `position`; return `hasher` with them
        added."""
        fd = self._fd
        with _full_disk_is_507():
            if isinstance(body, DirectBody):
                await body.write_hashed_to(fd, position, length, hasher, direct=self._direct)
                return hasher.digest()
            writer = AlignedWriter(fd, position, aligned_buffer(), direct=self._direct)
            try:
                digest = await write_hashed(
                    body, length, lambda batch, _at: writer.put_all(batch), hasher
                )
                await to_the_end(None, writer.finish)
            finally:
                writer.release()
            return digest


@contextlib.contextmanager
def _full_disk_is_507() -> Iterator[None]:
    try:
        yield
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            raise InsufficientStorage("The server's disk is full") from exc
        raise


async def _read(fd: int, first: int, last: int) -> AsyncIterator[bytes]:
    position = first
    while position <= last:
        piece = await asyncio.to_thread(
            os.pread, fd, min(READ_PIECE, last + 1 - position), position
        )
        if not piece:
            return
        position += len(piece)
        yield piece


def _open_shared(path: Path) -> tuple[int, os.stat_result]:
    """The file open for writing, its lock held shared, and what it holds (one thread hop
    for all three: a chunk's fixed cost)."""
    fd = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)
        return fd, os.fstat(fd)
    except BaseException:
        os.close(fd)
        raise


def _reserve(fd: int, size: int) -> None:
    """Allocate every block of the file's `size` bytes (those it has are kept)."""
    try:
        os.posix_fallocate(fd, 0, size)
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            raise InsufficientStorage("The server's disk is full") from exc
        if exc.errno not in (errno.EOPNOTSUPP, errno.EINVAL, errno.ENOSYS):
            raise
        os.ftruncate(fd, size)


def _unreceived_ranges(record: FileRecord, received: Collection[int]) -> list[tuple[int, int]]:
    """The (offset, length) byte ranges of the chunks not received, neighbours merged."""
    ranges: list[tuple[int, int]] = []
    for index in range(record.total_chunks):
        if index in received:
            continue
        offset, length = index * record.chunk_size, record.chunk_length(index)
        if ranges and sum(ranges[-1]) == offset:
            ranges[-1] = (ranges[-1][0], ranges[-1][1] + length)
        else:
            ranges.append((offset, length))
    return ranges
