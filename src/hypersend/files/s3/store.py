"""Files in an S3-compatible bucket: each upload is one multipart upload, each chunk one part.

Chunks stream through into their parts as they arrive, in any order, from any server process
(the upload id is kept in the file's record), each with its SHA-256 for the bucket to check:
from the `X-Chunk-SHA256` header when the client declared it, else in an aws-chunked trailer
computed on the way. A chunk is acknowledged only once its part is stored. The upload that
receives its last chunk is completed with CompleteMultipartUpload (no copy, no merge), after
checking every part's checksum against the digest recorded for its chunk; a crash in between
is mended by the next request that needs the file. Nothing but metadata stays on the disk.
"""

import contextlib
import hashlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Iterator
from datetime import datetime

from hypersend.errors import Conflict, FileStoreUnavailable, PayloadTooLarge
from hypersend.files.s3.client import S3Client, S3Error, S3Unreachable
from hypersend.files.store import FileMissing, Leftover, UploadRestartNeeded
from hypersend.files.streaming import DigestMismatch, forward_hashed
from hypersend.storage.models import FileRecord

logger = logging.getLogger("hypersend.files")

KEY_PREFIX = "files/"
MAX_PARTS = 10_000
_DIGEST_ERRORS = {"BadDigest", "InvalidDigest", "XAmzContentChecksumMismatch"}


def object_key(file_id: str) -> str:
    return f"{KEY_PREFIX}{file_id}"


@contextlib.contextmanager
def _reachable(action: str) -> Iterator[None]:
    """The bucket's failures as a 503 the client retries (its own mistakes are ours)."""
    try:
        yield
    except S3Unreachable as exc:
        logger.warning("File store unreachable while %s: %s", action, exc)
        raise FileStoreUnavailable("The file store is unavailable; try again shortly") from exc
    except S3Error as exc:
        if exc.code in ("NoSuchKey", "NoSuchUpload") or exc.code in _DIGEST_ERRORS:
            raise
        logger.warning("File store refused while %s: %s", action, exc)
        raise FileStoreUnavailable("The file store is unavailable; try again shortly") from exc


class S3Store:
    def __init__(self, client: S3Client, *, chunk_size: int, presigned_downloads: bool) -> None:
        self._client = client
        self._chunk_size = chunk_size
        self._presigned_downloads = presigned_downloads

    async def check(self) -> None:
        bucket = self._client.bucket
        try:
            await self._client.head_bucket()
        except S3Unreachable as exc:
            raise FileStoreUnavailable(
                f"cannot reach S3_ENDPOINT_URL {bucket.endpoint_url}: {exc}"
            ) from exc
        except S3Error as exc:
            reason = {
                404: f"the bucket {bucket.name!r} does not exist (S3_BUCKET)",
                403: "the bucket refused these credentials (AWS_ACCESS_KEY_ID,"
                " AWS_SECRET_ACCESS_KEY)",
                301: f"the bucket {bucket.name!r} is in another region (S3_REGION)",
            }.get(exc.status, f"the bucket answered {exc.status} {exc.code}")
            raise FileStoreUnavailable(reason) from exc

    async def check_room(self, size: int) -> None:
        if -(-size // self._chunk_size) > MAX_PARTS:
            raise PayloadTooLarge(
                f"A file in the bucket has at most {MAX_PARTS} chunks of {self._chunk_size} bytes",
                code="file_too_large",
            )

    async def begin(self, record: FileRecord) -> str:
        with _reachable("starting an upload"):
            return await self._client.create_multipart_upload(object_key(record.id), record.mime)

    @contextlib.asynccontextmanager
    async def writing(self, record: FileRecord) -> AsyncIterator["PartSink"]:
        if record.store_upload_id is None:  # begun on the disk, before files moved
            raise UploadRestartNeeded
        yield PartSink(self._client, object_key(record.id), record.store_upload_id)

    async def finish(self, record: FileRecord, digests: dict[int, bytes]) -> None:
        key, upload_id = object_key(record.id), record.store_upload_id
        if upload_id is None:
            return
        with _reachable("completing an upload"):
            try:
                parts = await self._client.list_parts(key, upload_id)
                by_number = {part.number: part for part in parts}
                for index in range(record.total_chunks):
                    part = by_number.get(index + 1)
                    if part is None or part.sha256 not in (None, digests[index]):
                        raise Conflict(
                            f"Chunk {index} is not stored as it was acknowledged; send it again",
                            code="chunk_conflict",
                        )
                chosen = [by_number[index + 1] for index in range(record.total_chunks)]
                await self._client.complete_multipart_upload(key, upload_id, chosen)
            except S3Error as exc:
                if exc.code != "NoSuchUpload":
                    raise
                if await self._client.head_object(key) != record.size:
                    raise FileMissing(record.id) from exc
                # completed already, by this process or another
            if record.tus_metadata is not None:  # only tus uploads stage bytes
                await delete_staged(self._client, key)

    async def holds_complete(self, record: FileRecord, digests: dict[int, bytes]) -> bool:
        """The object exists at its size: a multipart upload becomes an object only once
        every part passed its checksum."""
        with _reachable("looking for a file"):
            return await self._client.head_object(object_key(record.id)) == record.size

    async def remove(self, record: FileRecord) -> None:
        key = object_key(record.id)
        with _reachable("removing a file"):
            if record.store_upload_id is not None:  # gone already if it was completed
                await self._client.abort_multipart_upload(key, record.store_upload_id)
                if record.tus_metadata is not None:
                    await delete_staged(self._client, key)
            await self._client.delete_object(key)

    async def give_back_idle(
        self, record: FileRecord, received: Callable[[], Awaitable[Collection[int]]]
    ) -> None:
        """Nothing is reserved in a bucket: parts take room only once they are sent."""

    async def leftovers(self, started_before: datetime) -> AsyncIterator[Leftover]:
        with _reachable("listing unfinished uploads"):
            async for pending in self._client.list_multipart_uploads(KEY_PREFIX):
                if pending.initiated < started_before:
                    yield Leftover(
                        pending.key.removeprefix(KEY_PREFIX), pending.upload_id, pending.initiated
                    )

    async def discard(self, leftover: Leftover) -> None:
        with _reachable("dropping an unfinished upload"):
            await self._client.abort_multipart_upload(
                object_key(leftover.file_id), leftover.upload_handle
            )

    def local_path(self, file_id: str) -> None:
        return None

    @contextlib.asynccontextmanager
    async def open_read(
        self, record: FileRecord, first: int, last: int
    ) -> AsyncIterator[AsyncIterator[bytes]]:
        with _reachable("reading a file"):
            try:
                async with self._client.get_object(object_key(record.id), first, last) as response:
                    yield response.aiter_raw()
            except S3Error as exc:
                if exc.code == "NoSuchKey":
                    raise FileMissing(record.id) from exc
                raise

    def presigned_url(
        self, record: FileRecord, expires_seconds: int, disposition: str
    ) -> str | None:
        if not self._presigned_downloads:
            return None
        return self._client.presigned_get(
            object_key(record.id),
            expires_seconds=expires_seconds,
            query={
                "response-content-disposition": disposition,
                "response-content-type": record.mime,
            },
        )

    async def close(self) -> None:
        await self._client.close()


class PartSink:
    """One multipart upload, open for a chunk: the chunk becomes part `index + 1`. Bytes of a
    chunk staged before it is whole (a tus upload's) are objects of their own beside the file,
    `<key>.staged/<index>/<start>`, chained by their sizes; the chunk's part is made of them and
    the rest, and they are deleted once the file is complete or removed."""

    def __init__(self, client: S3Client, key: str, upload_id: str) -> None:
        self._client = client
        self._key = key
        self._upload_id = upload_id

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
        hasher = hashlib.sha256()
        if staged:
            body = self._after_staged(index, staged, body)
        pieces = forward_hashed(body, length, hasher)
        with _reachable("storing a chunk"):
            try:
                await self._client.upload_part(
                    self._key,
                    self._upload_id,
                    index + 1,
                    length,
                    pieces,
                    sha256=hasher.digest if expected is None else expected,
                )
            except S3Error as exc:
                if exc.code in _DIGEST_ERRORS:
                    raise DigestMismatch(index) from exc
                if exc.code == "NoSuchUpload":
                    raise Conflict(
                        "The upload is complete or gone", code="upload_complete"
                    ) from exc
                raise
        return hasher.digest()

    async def sync(self) -> None:
        """Nothing: the bucket has stored a part once it answers."""

    async def stage(self, index: int, start: int, length: int, body: AsyncIterator[bytes]) -> None:
        hasher = hashlib.sha256()
        with _reachable("keeping part of a chunk"):
            await self._client.put_object(
                staged_key(self._key, index, start),
                length,
                forward_hashed(body, length, hasher),
                sha256=hasher.digest,
            )

    async def _after_staged(
        self, index: int, staged: int, body: AsyncIterator[bytes]
    ) -> AsyncIterator[bytes]:
        """The chunk's `staged` first bytes, read back from their objects, then `body`."""
        position = 0
        while position < staged:
            try:
                async with self._client.get_object(
                    staged_key(self._key, index, position)
                ) as response:
                    position += int(response.headers["content-length"])
                    async for piece in response.aiter_raw():
                        yield piece
            except S3Error as exc:
                if exc.code != "NoSuchKey":
                    raise
                raise Conflict(
                    f"The bytes kept of chunk {index} are gone; start the upload again",
                    code="staged_bytes_missing",
                ) from exc
        async for piece in body:
            yield piece


def staged_key(key: str, index: int, start: int) -> str:
    return f"{key}.staged/{index}/{start}"


async def delete_staged(client: S3Client, key: str) -> None:
    async for staged in client.list_keys(f"{key}.staged/"):
        await client.delete_object(staged)
