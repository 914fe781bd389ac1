"""tus uploads on the chunk API's engine.

A tus upload is a file record like any other, with the server's chunk size. Its bytes come in
order, in PATCHes of any length at any offset the server reports: each chunk they complete is
written, hashed and recorded exactly as a chunk of the chunk API (so the content hash, the
stores and their durability are the same, and nothing is merged or copied at the end), and
the first bytes of a chunk that is not whole yet are staged in the store (`ChunkSink.stage`)
and noted in the record. The offset is the recorded chunks plus the next chunk's staged bytes.

Without `Upload-Checksum`, a PATCH cut short keeps the chunks it completed (the client resumes
from the offset that `HEAD` reports), each counted once it is durable, while the next one is
received; with one, nothing of the PATCH counts unless all of it matches. One PATCH of an
upload at a time per process (423 for a second one); two processes receiving PATCHes of one
upload at once can only come from its own uploader, and a chunk spoiled so would fail the
download's content-hash check, never silently (as in the chunk API).
"""

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

from hypersend.clock import utcnow
from hypersend.errors import ApiError, Conflict, NotFound, PayloadTooLarge
from hypersend.files.service import FileService, check_not_expired
from hypersend.files.store import ChunkSink
from hypersend.files.streaming import forward_hashed
from hypersend.files.tus.protocol import Checksum, ChecksumMismatch, parse_metadata
from hypersend.messages.service import MessageService
from hypersend.storage import Storage
from hypersend.storage.models import FileRecord, User

DEFAULT_FILENAME = "upload"


class UploadLocked(ApiError):
    status, code = 423, "upload_locked"

    def __init__(self) -> None:
        super().__init__("Another PATCH of this upload is in progress")


@dataclass(frozen=True, slots=True)
class TusUpload:
    record: FileRecord
    offset: int


class TusService:
    def __init__(self, files: FileService, messages: MessageService, storage: Storage) -> None:
        self._files = files
        self._messages = messages
        self._storage = storage
        self._patching: set[str] = set()  # uploads receiving a PATCH in this process

    async def create(self, user: User, *, length: int, metadata: str | None) -> TusUpload:
        """A new upload of `length` bytes; `metadata` (Upload-Metadata) may name its
        `filename`, `filetype` and the `chat_id` to post it into once complete."""
        fields = parse_metadata(metadata)
        if length <= 0:
            raise PayloadTooLarge(  # a 413 is what tus clients expect of a refused length
                "Upload-Length must be at least 1 byte", code="empty_upload"
            )
        record = await self._files.create_upload(
            user,
            filename=fields.get("filename") or DEFAULT_FILENAME,
            size=length,
            mime=fields.get("filetype") or None,
            chat_id=fields.get("chat_id") or None,
            tus_metadata=metadata or "",
        )
        return TusUpload(record, 0)

    async def status(self, user: User, file_id: str) -> TusUpload:
        record = await self._own_upload(user, file_id)
        check_not_expired(record)
        return await self._current(user, record)

    async def _current(self, user: User, record: FileRecord) -> TusUpload:
        """The upload as `record` (just read) has it, posted into its chat once complete."""
        upload = TusUpload(record, await self._offset(record))
        if record.status == "complete":
            await self._post_into_chat(user, record)
        return upload

    async def append(
        self,
        user: User,
        file_id: str,
        *,
        offset: int,
        length: int,
        body: AsyncIterator[bytes],
        checksum: Checksum | None,
    ) -> TusUpload:
        """Take `length` bytes of `body` at `offset`, which must be the upload's offset."""
        record = await self._own_upload(user, file_id)
        if record.id in self._patching:
            raise UploadLocked
        self._patching.add(record.id)
        try:
            check_not_expired(record)
            current = await self._offset(record)
            if offset != current:
                raise Conflict(
                    f"Upload-Offset is {offset}, but the upload is at {current}",
                    code="offset_mismatch",
                    headers={"Upload-Offset": str(current)},
                )
            if offset + length > record.size:
                raise PayloadTooLarge(
                    f"The upload is {record.size} bytes: {length} bytes at {offset} go past it",
                    code="beyond_upload_length",
                )
            if length:
                record = await self._write(record, offset, length, body, checksum)
        finally:
            self._patching.discard(record.id)
        return await self._current(user, record)

    async def terminate(self, user: User, file_id: str) -> None:
        await self._own_upload(user, file_id)
        await self._files.delete(user, file_id)

    async def _write(
        self,
        record: FileRecord,
        offset: int,
        length: int,
        body: AsyncIterator[bytes],
        checksum: Checksum | None,
    ) -> FileRecord:
        """Store the bytes chunk by chunk. Without a checksum, the chunks written so far are
        made durable and recorded while the next one arrives (one PATCH is one stream: this
        overlap is what parallel chunk PUTs get from each other); with one, all of them once
        the whole body matches. Returns the record as it then is."""
        hasher = checksum.hasher() if checksum else None
        spans = _Spans(forward_hashed(body, length, hasher) if hasher else body)
        written: list[tuple[int, bytes]] = []  # completed chunks not recorded yet
        recording: asyncio.Task[None] | None = None
        staged = (0, 0)
        position, end = offset, offset + length
        async with self._files.store.writing(record) as sink:
            try:
                while position < end:
                    index, start = divmod(position, record.chunk_size)
                    chunk_length = record.chunk_length(index)
                    taken = min(chunk_length - start, end - position)
                    if start + taken == chunk_length:
                        digest = await sink.write_chunk(
                            index,
                            chunk_length,
                            spans.take(taken),
                            expected=None,
                            staged=start,
                            synced=False,
                        )
                        written.append((index, digest))
                        if hasher is None:
                            if recording is not None:
                                await recording
                            recording = asyncio.create_task(self._settle(sink, record, written))
                            written = []
                    else:
                        await sink.stage(index, start, taken, spans.take(taken))
                        staged = (index, start + taken)
                    position += taken
                await spans.finish()
                if recording is not None:
                    await recording
                    recording = None
            finally:
                if recording is not None:  # the body failed: still count what was written
                    await asyncio.gather(recording, return_exceptions=True)
            if checksum is not None and hasher is not None and hasher.digest() != checksum.digest:
                raise ChecksumMismatch
            await self._settle(sink, record, written)
            if staged[1]:
                await self._storage.files.set_staged(
                    record.id, *staged, expires_at=utcnow() + self._files.upload_expiry
                )
        return await self._fresh(record.id)

    async def _settle(
        self, sink: ChunkSink, record: FileRecord, chunks: list[tuple[int, bytes]]
    ) -> None:
        """Make written chunks durable, then record them."""
        if chunks:
            await sink.sync()
            for index, digest in chunks:
                await self._files.accept_chunk(record, index, digest)

    async def _offset(self, record: FileRecord) -> int:
        if record.status == "complete":
            return record.size
        received = await self._storage.files.chunk_count(record.id)
        staged = record.staged_bytes if record.staged_chunk == received else 0
        return received * record.chunk_size + staged

    async def _own_upload(self, user: User, file_id: str) -> FileRecord:
        """The caller's own tus upload (an upload of the chunk API is not one: 404)."""
        record = await self._files.owned(user, file_id)
        if record.tus_metadata is None:
            raise NotFound("Upload not found")
        return record

    async def _fresh(self, file_id: str) -> FileRecord:
        record = await self._storage.files.get(file_id)
        if record is None:
            raise NotFound("Upload not found")
        return record

    async def _post_into_chat(self, user: User, record: FileRecord) -> None:
        """A complete upload with a chat is posted into it, once (the message's client id is
        the upload's: asking again finds the first)."""
        if record.chat_id is not None:
            await self._messages.send(
                user, record.chat_id, text=None, file_id=record.id, client_id=f"tus:{record.id}"
            )


class _Spans:
    """A body handed out in spans of given lengths, in order (a piece that straddles two
    spans is split)."""

    def __init__(self, body: AsyncIterator[bytes]) -> None:
        self._body = aiter(body)
        self._rest = b""

    async def take(self, length: int) -> AsyncIterator[bytes]:
        """The next `length` bytes (fewer if the body ends first: the store's length check
        refuses them)."""
        left = length
        while left > 0:
            if self._rest:
                piece, self._rest = self._rest, b""
            else:
                try:
                    piece = await anext(self._body)
                except StopAsyncIteration:
                    return
            if len(piece) > left:
                piece, self._rest = piece[:left], piece[left:]
            left -= len(piece)
            yield piece

    async def finish(self) -> None:
        """Read the body to its end (a checksum's hashing ends with it)."""
        async for _ in self._body:
            pass
