"""Moving big files: parallel, resumable, verified uploads and downloads.

Uploads send each missing chunk with its SHA-256, from N parallel streams, retrying with
backoff; a small local record (per server, path, size and mtime) lets a new process resume
after a crash of either side. Downloads resume with Range into `<name>.part`. Both verify the
server's content hash, and neither holds more than a few MiB of any file in memory.
"""

import asyncio
import hashlib
import json
import os
import random
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Protocol, Self
from urllib.parse import parse_qsl, urlsplit

import httpx

from hypersend.client.errors import (
    ApiError,
    ConflictError,
    HyperSendError,
    ServerUnreachable,
)
from hypersend.client.http import ApiSession
from hypersend.client.raw_http import RawConnection, RawResponse
from hypersend.content_hash import ContentHasher, content_hash

PIECE = 1024 * 1024
MAX_ATTEMPTS = 8

Progress = Callable[[int, int], None]
"""Called with (bytes done, bytes in all)."""


class IntegrityError(HyperSendError):
    """The bytes that arrived do not match the server's content hash."""


@dataclass(frozen=True, slots=True)
class FileInfo:
    file_id: str
    filename: str
    size: int
    mime: str
    chunk_size: int
    total_chunks: int
    status: str
    missing_chunks: list[int]
    content_hash: str | None
    upload_url: str | None = None  # the server's upload port, for this upload's chunks

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        return cls(
            file_id=data["file_id"],
            filename=data["filename"],
            size=int(data["size"]),
            mime=data["mime"],
            chunk_size=int(data["chunk_size"]),
            total_chunks=int(data["total_chunks"]),
            status=data["status"],
            missing_chunks=list(data["missing_chunks"]),
            content_hash=data.get("content_hash"),
            upload_url=data.get("upload_url"),
        )


def default_state_dir() -> Path:
    return Path.home() / ".cache" / "hypersend" / "uploads"


async def file_info(api: ApiSession, file_id: str) -> FileInfo:
    return FileInfo.from_json(await api.json("GET", f"/files/{file_id}/info"))


async def upload(
    api: ApiSession,
    path: Path,
    *,
    chat_id: str | None = None,
    mime: str | None = None,
    parallel: int = 4,
    progress: Progress | None = None,
    state_dir: Path | None = None,
) -> FileInfo:
    """Upload `path` (resuming an earlier attempt when there is one) and verify it."""
    stat = await asyncio.to_thread(path.stat)
    record = _ResumeRecord(state_dir or default_state_dir(), api.base_url, path, stat)
    info = await _resume_or_start(api, record, path, stat.st_size, chat_id, mime)
    done = stat.st_size - sum(_length(info, i) for i in info.missing_chunks)
    digests: dict[int, bytes] = {}
    if progress:
        progress(done, info.size)

    pending: asyncio.Queue[int] = asyncio.Queue()
    for index in info.missing_chunks:
        pending.put_nowait(index)

    async def worker() -> None:
        nonlocal done, info
        connection = _chunk_connection(api, info)
        try:
            with open(path, "rb") as source:  # noqa: ASYNC230 (sendfile reads it, not Python)
                while not pending.empty():
                    index = pending.get_nowait()
                    try:
                        digest = await _send_chunk(connection, path, source, info, index)
                    except ApiError as exc:
                        if exc.code != "upload_link_expired":
                            raise
                        info = await file_info(api, info.file_id)  # with a fresh upload_url
                        await connection.close()
                        connection = _chunk_connection(api, info)
                        digest = await _send_chunk(connection, path, source, info, index)
                    digests[index] = digest
                    done += _length(info, index)
                    if progress:
                        progress(done, info.size)
        finally:
            await connection.close()

    workers = [asyncio.create_task(worker()) for _ in range(max(1, parallel))]
    try:
        await asyncio.gather(*workers)
    finally:
        for task in workers:
            task.cancel()
    final = await file_info(api, info.file_id)
    if final.status != "complete":
        raise HyperSendError(f"Upload incomplete: chunks {final.missing_chunks[:10]} missing")
    expected = await asyncio.to_thread(_local_content_hash, path, info, digests)
    if final.content_hash != expected:
        raise IntegrityError("The server's content hash does not match the local file")
    record.forget()
    return final


async def download(
    api: ApiSession,
    file_id: str,
    destination: Path,
    *,
    progress: Progress | None = None,
) -> Path:
    """Download into `destination`, resuming `<destination>.part`, and verify it."""
    info = await file_info(api, file_id)
    if info.status != "complete":
        raise ConflictError(409, "upload_incomplete", "The file's upload is not complete")
    partial = destination.with_name(destination.name + ".part")
    hasher = ContentHasher(info.chunk_size)
    for attempt in range(MAX_ATTEMPTS):
        try:
            hasher = await _download_into(api, info, partial, progress)
            break
        except (ServerUnreachable, httpx.TransportError):
            if attempt == MAX_ATTEMPTS - 1:
                raise
            await _backoff(attempt)
    if hasher.hexdigest() != info.content_hash:
        await asyncio.to_thread(partial.unlink)
        raise IntegrityError("The downloaded bytes do not match the server's content hash")
    await asyncio.to_thread(partial.replace, destination)
    return destination


async def _download_into(
    api: ApiSession, info: FileInfo, partial: Path, progress: Progress | None
) -> ContentHasher:
    """Fetch what `partial` lacks; return the content hasher fed with all of its bytes."""
    hasher = ContentHasher(info.chunk_size)
    have = await asyncio.to_thread(_size_or_zero, partial)
    if have > info.size:
        have = 0
    if have:
        with open(partial, "rb") as existing:  # noqa: ASYNC230 (reads go to a thread)
            await asyncio.to_thread(hash_prefix, existing, hasher, have)
    if have == info.size:
        return hasher
    # From the start, no Range: a whole-file answer goes out zero-copy (pathsend), which a
    # 206 cannot.
    headers = {"Range": f"bytes={have}-", "If-Range": f'"{info.content_hash}"'} if have else {}

    async def fetch() -> ContentHasher:
        fed, start = hasher, have
        async with RawConnection(api).get(f"/files/download/{info.file_id}", headers) as reply:
            if reply.status == 200:  # the file changed, or no range was taken: start over
                fed, start = ContentHasher(info.chunk_size), 0
            with open(partial, "r+b" if start else "wb") as out:  # noqa: ASYNC230 (seek only)
                out.seek(start)
                await _write_pieces(reply, out, fed, start, info.size, progress)
        return fed

    return await api.with_token(fetch)


# Received pieces are written and hashed at once, each on a thread of its own that takes them
# in order (hashlib and file writes release the GIL): measured on 2 GiB downloads, four runs
# each, 0.40-0.48 GB/s with both on one thread -> 0.69-0.74 GB/s.
_WRITER = ThreadPoolExecutor(1, thread_name_prefix="received-writer")
_HASHER = ThreadPoolExecutor(1, thread_name_prefix="received-hasher")


class Hasher(Protocol):
    def update(self, data: bytes | memoryview, /) -> None: ...


async def write_and_hash(out: BinaryIO, hasher: Hasher, piece: bytes | memoryview) -> None:
    """Write `piece` to `out` and feed it to `hasher`, both at once and off the event loop.
    Await each piece before the next: the threads keep the pieces in order."""
    loop = asyncio.get_running_loop()
    await asyncio.gather(
        loop.run_in_executor(_WRITER, out.write, piece),
        loop.run_in_executor(_HASHER, hasher.update, piece),
    )


async def _write_pieces(
    reply: RawResponse,
    out: BinaryIO,
    hasher: ContentHasher,
    have: int,
    size: int,
    progress: Progress | None,
) -> None:
    """Write and hash each piece; the next pieces arrive meanwhile."""
    async for piece in reply.pieces():
        await write_and_hash(out, hasher, piece)
        have += len(piece)
        if progress:
            progress(have, size)


async def _resume_or_start(
    api: ApiSession,
    record: "_ResumeRecord",
    path: Path,
    size: int,
    chat_id: str | None,
    mime: str | None,
) -> FileInfo:
    file_id = record.load()
    if file_id is not None:
        try:
            info = await file_info(api, file_id)
            if info.size == size:
                return info
        except ApiError:
            pass
    body: dict[str, Any] = {"filename": path.name, "size": size}
    if chat_id:
        body["chat_id"] = chat_id
    if mime:
        body["mime"] = mime
    started = await api.json("POST", "/files/upload/start", json=body)
    record.save(started["file_id"])
    return await file_info(api, started["file_id"])


async def _send_chunk(
    connection: RawConnection, path: Path, source: BinaryIO, info: FileInfo, index: int
) -> bytes:
    offset, length = index * info.chunk_size, _length(info, index)
    digest = await asyncio.to_thread(_hash_range, path, offset, length)
    headers = {"Content-Type": "application/octet-stream", "X-Chunk-SHA256": digest.hex()}
    target, params = f"/files/upload/chunk/{info.file_id}", {"index": str(index)}
    if info.upload_url is not None:
        granted = urlsplit(info.upload_url)
        target, params = granted.path, dict(parse_qsl(granted.query)) | params
    for attempt in range(MAX_ATTEMPTS):
        try:
            await connection.put(
                target,
                params,
                source,
                offset,
                length,
                headers,
            )
            return digest
        except ServerUnreachable:
            pass
        except ApiError as exc:
            retryable = exc.status >= 500 or exc.code == "chunk_in_flight"
            if not retryable:
                raise
        if attempt < MAX_ATTEMPTS - 1:
            await _backoff(attempt)
    raise ServerUnreachable(f"Chunk {index} failed {MAX_ATTEMPTS} times; run again to resume")


def _chunk_connection(api: ApiSession, info: FileInfo) -> RawConnection:
    """A connection for `info`'s chunks: to the server's upload port when it named one (with
    no token: its URL carries a grant), else to the API."""
    if info.upload_url is None:
        return RawConnection(api)
    url = urlsplit(info.upload_url)
    return RawConnection(api, f"{url.scheme}://{url.netloc}")


def _hash_range(path: Path, offset: int, length: int) -> bytes:
    digest = hashlib.sha256()
    with open(path, "rb") as source:
        source.seek(offset)
        left = length
        while left:
            piece = source.read(min(PIECE, left))
            if not piece:
                raise HyperSendError(f"{path} got shorter while uploading")
            digest.update(piece)
            left -= len(piece)
    return digest.digest()


def hash_prefix(source: BinaryIO, hasher: Hasher, length: int) -> int:
    """Feed up to `length` bytes of `source`, from where it stands, to `hasher` (what a
    resumed transfer already has); the number of bytes read."""
    left = length
    while left and (piece := source.read(min(PIECE, left))):
        hasher.update(piece)
        left -= len(piece)
    return length - left


def _local_content_hash(path: Path, info: FileInfo, known: dict[int, bytes]) -> str:
    return content_hash(
        known.get(i) or _hash_range(path, i * info.chunk_size, _length(info, i))
        for i in range(info.total_chunks)
    )


def _size_or_zero(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def _length(info: FileInfo, index: int) -> int:
    return min(info.chunk_size, info.size - index * info.chunk_size)


async def _backoff(attempt: int) -> None:
    await asyncio.sleep(min(30.0, 0.25 * 2**attempt) * (0.5 + random.random()))


class _ResumeRecord:
    """Which server-side upload a local file belongs to, so a new process can resume it."""

    def __init__(self, directory: Path, server: str, path: Path, stat: os.stat_result) -> None:
        key = f"{server}|{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"
        self._path = directory / f"{hashlib.sha256(key.encode()).hexdigest()[:32]}.json"

    def load(self) -> str | None:
        try:
            return str(json.loads(self._path.read_text())["file_id"])
        except (OSError, ValueError, KeyError):
            return None

    def save(self, file_id: str) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        self._path.write_text(json.dumps({"file_id": file_id}))

    def forget(self) -> None:
        self._path.unlink(missing_ok=True)
