"""Uploads, downloads and housekeeping of server-stored files."""

import logging
import mimetypes
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import partial

from hypersend.chats.service import ChatService
from hypersend.clock import utcnow
from hypersend.config import Settings
from hypersend.download_port.grants import DownloadGrant, GrantSigner
from hypersend.errors import (
    ApiError,
    Conflict,
    NotFound,
    PayloadTooLarge,
    Unprocessable,
)
from hypersend.files.links import LinkSigner
from hypersend.files.previews import Previews
from hypersend.files.progress import AcceptedChunk, FileProgress
from hypersend.files.store import FileMissing, FileStore
from hypersend.files.streaming import ChunkLengthError, DigestMismatch, digest_of
from hypersend.files.thumbnails import has_preview
from hypersend.ids import new_id
from hypersend.storage import Storage
from hypersend.storage.models import ChunkReceipt, FileRecord, FileRef, Thumbnail, User
from hypersend.upload_port.grants import UploadGrant, UploadGrantSigner

logger = logging.getLogger("hypersend.files")

SWEEP_BATCH = 100


class UploadExpired(ApiError):
    status, code = 410, "upload_expired"


@dataclass(frozen=True, slots=True)
class IncomingChunk:
    """One chunk request: its index, its body (streamed, not read yet), and what the client
    declares of it (`Content-Length`, `X-Chunk-SHA256`)."""

    index: int
    body: AsyncIterator[bytes]
    declared_length: int | None
    expected_sha256: str | None


class FileService:
    def __init__(
        self, storage: Storage, settings: Settings, chats: ChatService, store: FileStore
    ) -> None:
        self._storage = storage
        self._settings = settings
        self._chats = chats
        self.store = store
        self.previews = Previews(storage, store)
        self.links = LinkSigner(settings.signing_key)
        self.grants = GrantSigner(settings.signing_key)
        self.upload_grants = UploadGrantSigner(settings.signing_key)
        # Chunks being received by this process (one index of one upload at a time). Per
        # process: two processes may receive the same chunk at the same moment and both write
        # it. With the same bytes that is harmless; only an uploader sending other bytes for
        # one index can spoil a chunk of their own upload, and then the chunk digests no
        # longer match the bytes, so the download's content-hash check fails, never silently.
        self._chunks_in_flight: set[tuple[str, int]] = set()

    async def create_upload(
        self,
        user: User,
        *,
        filename: str,
        size: int,
        mime: str | None,
        chat_id: str | None,
        tus_metadata: str | None = None,
    ) -> FileRecord:
        """A new upload's record, once size limits, quotas and the chat allow it."""
        settings = self._settings
        if size > settings.max_file_size:
            raise PayloadTooLarge(
                f"File is larger than this server's maximum of {settings.max_file_size} bytes",
                code="file_too_large",
            )
        if chat_id is not None:
            await self._chats.require_member(chat_id, user.id)
        quota = user.quota_bytes if user.quota_bytes is not None else settings.default_user_quota
        if quota and await self._storage.files.bytes_used(user.id) + size > quota:
            raise PayloadTooLarge("File does not fit in your storage quota", code="over_quota")
        unfinished_cap = settings.max_uploading_bytes_per_user
        if unfinished_cap and await self._storage.files.bytes_uploading(user.id) + size > (
            unfinished_cap
        ):
            raise PayloadTooLarge(
                f"Your unfinished uploads would exceed {unfinished_cap} bytes: finish or delete"
                " some first",
                code="too_many_unfinished_uploads",
            )
        await self.store.check_room(size)
        now = utcnow()
        chunk_size = settings.chunk_size
        mime = mime or mimetypes.guess_type(filename)[0] or "application/octet-stream"
        record = FileRecord(
            id=new_id(),
            owner_id=user.id,
            chat_id=chat_id,
            filename=filename,
            size=size,
            mime=mime,
            chunk_size=chunk_size,
            total_chunks=-(-size // chunk_size),
            status="uploading",
            created_at=now,
            expires_at=now + self.upload_expiry,
            tus_metadata=tus_metadata,
            thumbnail_due=has_preview(mime, size),
        )
        record = replace(record, store_upload_id=await self.store.begin(record))
        try:
            await self._storage.files.create(record)
        except BaseException:
            await self.store.remove(record)
            raise
        return record

    async def receive_chunk(self, user: User, file_id: str, chunk: IncomingChunk) -> AcceptedChunk:
        """Stream one chunk to its place; it counts as received only once it checks out."""
        index, body, declared_length = chunk.index, chunk.body, chunk.declared_length
        record = await self.owned(user, file_id)
        if record.tus_metadata is not None:
            raise Conflict(
                f"This is a tus upload: continue it with PATCH /files/tus/{record.id}",
                code="tus_upload",
            )
        if not 0 <= index < record.total_chunks:
            raise Unprocessable(
                f"Chunk index must be from 0 to {record.total_chunks - 1}",
                code="chunk_index_out_of_range",
            )
        length = record.chunk_length(index)
        if declared_length is not None and declared_length != length:
            if declared_length < length:
                # Read the (short) body first: a server that answers and closes while the
                # client is still sending makes the client lose the answer to a reset.
                async for _ in body:
                    pass
            raise ChunkLengthError(f"Chunk {index} must be {length} bytes, not {declared_length}")
        expected = _parse_digest(chunk.expected_sha256)
        check_not_expired(record)
        key = (record.id, index)
        if key in self._chunks_in_flight:
            raise Conflict(f"Chunk {index} is already being received", code="chunk_in_flight")
        self._chunks_in_flight.add(key)
        try:
            async with self.store.writing(record) as sink:
                known = await self._storage.files.chunk_digest(record.id, index)
                if known is not None:
                    digest = await digest_of(body, length)
                    if digest != known:
                        raise Conflict(
                            f"Chunk {index} was already received with other content",
                            code="chunk_conflict",
                        )
                else:
                    digest = await sink.write_chunk(index, length, body, expected=expected)
                if expected is not None and digest != expected:
                    raise DigestMismatch(index)
                receipt = await self.accept_chunk(record, index, digest)
        finally:
            self._chunks_in_flight.discard(key)
        return AcceptedChunk(record, index, receipt)

    async def progress(self, record: FileRecord) -> FileProgress:
        """What of a file has been received (the caller has checked that it may see it:
        `visible`, `owned`)."""
        received = await self._storage.files.chunk_digests(record.id)
        return FileProgress(record, frozenset(received), await self._has_thumbnail(record.id))

    async def thumbnail(self, user: User, file_id: str) -> Thumbnail:
        """The preview of an image the user may see."""
        record = await self.visible(user, file_id)
        thumbnail = await self._storage.files.thumbnail(record.id)
        if thumbnail is None or not thumbnail.mime:
            raise NotFound("This file has no thumbnail", code="no_thumbnail")
        return thumbnail

    async def _has_thumbnail(self, file_id: str) -> bool:
        thumbnail = await self._storage.files.thumbnail(file_id)
        return thumbnail is not None and bool(thumbnail.mime)

    async def visible(self, user: User, file_id: str) -> FileRecord:
        """The file, when the user owns it or is in a chat it was shared in; else 404."""
        record = await self._storage.files.get(file_id)
        if record is None or not await self._storage.files.visible_to(file_id, user.id):
            raise NotFound("File not found")
        return record

    async def downloadable(self, record: FileRecord) -> FileRecord:
        if record.status != "complete":
            raise Conflict("The file's upload is not complete", code="upload_incomplete")
        return record

    async def by_link(self, file_id: str, expires: int, signature: str) -> FileRecord:
        record = await self._storage.files.get(file_id)
        if record is None or not self.links.is_valid(file_id, expires, signature):
            raise NotFound("File not found, or the link has expired")
        return record

    def grant_path(self, record: FileRecord, expires: int | None = None) -> str:
        """The download port's path that sends `record`'s bytes (a complete file the caller
        may read) until `expires` (a signed link's own expiry), or as long as a new link."""
        if expires is None:
            expires = self._new_link_expiry()
        return self.grants.path(DownloadGrant.of(record, expires))

    def upload_url(
        self, record: FileRecord, user: User, session_id: str, request_base_url: str
    ) -> str | None:
        """Where the upload port takes `record`'s chunks from `user`'s session (a client adds
        `&index=<n>`), when the server has one and the upload is the user's to continue
        there; None otherwise."""
        settings = self._settings
        if (
            not settings.upload_port
            or record.owner_id != user.id
            or record.status != "uploading"
            or record.tus_metadata is not None
        ):
            return None
        expires = int((utcnow() + self.upload_expiry).timestamp())
        grant = UploadGrant(record.id, user.id, session_id, expires)
        return settings.upload_port_base(request_base_url) + self.upload_grants.path(grant)

    def sign_link(self, record: FileRecord) -> tuple[str, datetime]:
        expires = self._new_link_expiry()
        query = f"expires={expires}&sig={self.links.sign(record.id, expires)}"
        return f"/files/download/{record.id}?{query}", datetime.fromtimestamp(expires, UTC)

    def _new_link_expiry(self) -> int:
        """When a link (or a grant) made now stops working, in Unix seconds."""
        expires_at = utcnow() + timedelta(minutes=self._settings.download_link_minutes)
        return int(expires_at.timestamp())

    async def shareable(self, user: User, file_id: str) -> FileRef:
        record = await self.visible(user, file_id)
        await self.downloadable(record)
        return replace(record.ref, has_thumbnail=await self._has_thumbnail(record.id))

    async def delete(self, user: User, file_id: str) -> None:
        record = await self.owned(user, file_id)
        await self._remove(record)

    async def sweep(self) -> int:
        """Drop abandoned uploads and, with retention on, completed files past it; give back
        the disk that idle uploads hold but have not written."""
        now = utcnow()
        removed = 0
        files = self._storage.files
        while expired := await files.unfinished_expiring_before(now, SWEEP_BATCH):
            for record in expired:
                await self._remove(record)
            removed += len(expired)
            logger.info("Swept %d abandoned uploads", len(expired))
        if self._settings.retention_days:
            cutoff = now - timedelta(days=self._settings.retention_days)
            while old := await files.completed_before(cutoff, SWEEP_BATCH):
                for record in old:
                    await self._remove(record)
                removed += len(old)
                logger.info("Swept %d files past retention", len(old))
        if self._settings.upload_idle_release_minutes:
            await self._release_idle_reservations(now)
        await self._discard_leftovers(now)
        await self.previews.make_due()
        return removed

    async def _release_idle_reservations(self, now: datetime) -> None:
        """Uploads with no chunk for `UPLOAD_IDLE_RELEASE_MINUTES` give back the space of the
        chunks they have not sent; their next chunk takes it again (or answers 507)."""
        idle = timedelta(minutes=self._settings.upload_idle_release_minutes)
        cutoff = now + self.upload_expiry - idle  # the expiry of an upload last active then
        after_id = ""
        while batch := await self._storage.files.unfinished_expiring_before(
            cutoff, SWEEP_BATCH, after_id=after_id
        ):
            for record in batch:
                await self.store.give_back_idle(record, partial(self._kept_chunks, record))
            after_id = batch[-1].id

    async def _kept_chunks(self, record: FileRecord) -> set[int]:
        """The chunks that hold bytes to keep: those received, and one with staged bytes
        (read again: the record was read before the chunk could be written)."""
        kept = set(await self._storage.files.chunk_digests(record.id))
        now = await self._storage.files.get(record.id)
        if now is not None and now.staged_bytes:
            kept.add(now.staged_chunk)
        return kept

    async def _discard_leftovers(self, now: datetime) -> None:
        """Drop what the store keeps for uploads that have no record (a crash between the
        store's part and the record's), once they are older than an idle upload may live."""
        async for leftover in self.store.leftovers(now - self.upload_expiry):
            record = await self._storage.files.get(leftover.file_id)
            if record is None or record.store_upload_id != leftover.upload_handle:
                await self.store.discard(leftover)
                logger.info("Dropped a leftover upload of %s", leftover.file_id)

    async def accept_chunk(self, record: FileRecord, index: int, digest: bytes) -> ChunkReceipt:
        """Count a chunk the store holds as received, push the upload's expiry out, and make
        the store's copy one file when that was the last chunk missing."""
        receipt = await self._storage.files.record_chunk(
            record.id, index, digest, expires_at=utcnow() + self.upload_expiry
        )
        if receipt.complete:
            await self.finish(record)
            if record.thumbnail_due:
                await self.previews.make(record)
        return receipt

    async def finish(self, record: FileRecord) -> None:
        """Make the store's copy of an upload whose every chunk was recorded one file."""
        try:
            await self._finish(record)
        except FileMissing as exc:  # its unfinished bytes were dropped meanwhile
            raise UploadExpired("This upload has expired; start it again") from exc

    async def owned(self, user: User, file_id: str) -> FileRecord:
        record = await self._storage.files.get(file_id)
        if record is None or record.owner_id != user.id:
            raise NotFound("File not found")
        return record

    async def _remove(self, record: FileRecord) -> None:
        await self._storage.files.delete(record.id)
        await self.store.remove(record)

    async def _finish(self, record: FileRecord) -> None:
        await self.store.finish(record, await self._storage.files.chunk_digests(record.id))

    @asynccontextmanager
    async def open_read(
        self, record: FileRecord, first: int, last: int
    ) -> AsyncIterator[AsyncIterator[bytes]]:
        """A complete file's bytes `first`..`last`. A file whose last chunk was recorded but
        whose store did not hear of it (a crash in between) is finished first."""
        try:
            async with self.store.open_read(record, first, last) as stream:
                yield stream
                return
        except FileMissing:
            await self._finish(record)
        async with self.store.open_read(record, first, last) as stream:
            yield stream

    @property
    def upload_expiry(self) -> timedelta:
        return timedelta(hours=self._settings.upload_expiry_hours)


def check_not_expired(record: FileRecord) -> None:
    expires_at = record.expires_at
    if record.status == "uploading" and expires_at is not None and expires_at < utcnow():
        raise UploadExpired("This upload has expired; start it again")


def _parse_digest(header: str | None) -> bytes | None:
    if header is None:
        return None
    try:
        digest = bytes.fromhex(header.strip())
    except ValueError as exc:
        raise Unprocessable("X-Chunk-SHA256 must be 64 hex digits", code="bad_digest") from exc
    if len(digest) != 32:
        raise Unprocessable("X-Chunk-SHA256 must be 64 hex digits", code="bad_digest")
    return digest
