"""The download port's HTTP/1.1 listener: GET and HEAD of granted files, bytes by sendfile(2).

It speaks only what a download needs: a request head (no body), keep-alive, `Range` and
`If-Range` exactly as the API's download route reads them, and errors in the API's shape.

Bounds: a request head of at most `MAX_HEAD_BYTES`, sent within `HEAD_TIMEOUT`; a client
that takes no byte for `STALL_TIMEOUT` is let go; at most `max_connections` connections
(more are answered 503 and closed). `sendfile` is called from the event loop's writer
callbacks, while a worker thread reads the bytes ahead into the page cache, so that the loop
does not wait on the disk.
"""

import asyncio
import contextlib
import json
import logging
import os
import re
import socket
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from http import HTTPStatus
from pathlib import Path
from typing import BinaryIO
from urllib.parse import parse_qsl, unquote, urlsplit

from hypersend.download_port.grants import GRANT_FIELDS, DownloadGrant, GrantSigner
from hypersend.errors import ApiError, BadRequest, NotFound, ServiceUnavailable
from hypersend.files.disk import DiskStore
from hypersend.files.headers import MultipartRanges, file_headers
from hypersend.files.ranges import requested_spans

logger = logging.getLogger("hypersend.download_port")

MAX_HEAD_BYTES = 16 * 1024
HEAD_TIMEOUT = 15.0  # to send a request head, and to start the next on a kept-alive connection
STALL_TIMEOUT = 60.0  # a client that takes no byte for this long is let go
MAX_CONNECTIONS = 1000
ACCEPT_RETRY_SECONDS = 0.1
READ_AHEAD_BYTES = 16 * 1024 * 1024
_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
_READ_AHEAD = ThreadPoolExecutor(2, thread_name_prefix="read-ahead")


class MethodNotAllowed(ApiError):
    status, code = 405, "method_not_allowed"


class HeadTooLarge(ApiError):
    status, code = 431, "request_header_fields_too_large"


@dataclass(frozen=True)
class Request:
    method: str
    target: str
    headers: dict[str, str]
    keep_alive: bool


def parse_request(head: bytes) -> Request:
    """A request head (without its final empty line); `BadRequest` unless it is HTTP/1.x
    with well-formed header lines, no header that matters given twice, and no body."""
    request_line, *lines = head.decode("latin-1").split("\r\n")
    parts = request_line.split(" ")
    if len(parts) != 3 or parts[2] not in ("HTTP/1.1", "HTTP/1.0") or not _TOKEN.match(parts[0]):
        raise BadRequest("Malformed request line")
    method, target, version = parts
    headers: dict[str, str] = {}
    for line in lines:
        name, colon, value = line.partition(":")
        if not colon or not _TOKEN.match(name):
            raise BadRequest("Malformed header line")
        key = name.lower()
        if key in headers and key in ("range", "if-range", "host"):
            raise BadRequest(f"{name} given twice")
        headers[key] = value.strip(" \t")
    if headers.get("content-length", "0") != "0" or "transfer-encoding" in headers:
        raise BadRequest("A download takes no request body")
    connection = headers.get("connection", "").lower()
    by_default = version == "HTTP/1.1"  # HTTP/1.0 closes unless asked to keep alive
    keep_alive = "close" not in connection if by_default else "keep-alive" in connection
    return Request(method, target, headers, keep_alive)


class DownloadPort:
    """Serves the files under `files_dir` that `signer`'s grants name."""

    def __init__(
        self, files_dir: Path, signer: GrantSigner, *, max_connections: int = MAX_CONNECTIONS
    ) -> None:
        self._files_dir = files_dir
        self._signer = signer
        self._max_connections = max_connections
        self._connections: set[asyncio.Task[None]] = set()

    async def serve(self, listener: socket.socket) -> None:
        """Accept connections on `listener` until cancelled."""
        loop = asyncio.get_running_loop()
        listener.setblocking(False)
        while True:
            try:
                connection, _ = await loop.sock_accept(listener)
            except OSError as exc:  # out of descriptors or memory: let some connections end
                logger.warning("The download port cannot accept a connection: %s", exc)
                await asyncio.sleep(ACCEPT_RETRY_SECONDS)
                continue
            if len(self._connections) >= self._max_connections:
                task = asyncio.create_task(self._refuse(connection))
            else:
                task = asyncio.create_task(self._converse(connection))
            self._connections.add(task)
            task.add_done_callback(self._connections.discard)

    async def _refuse(self, connection: socket.socket) -> None:
        with connection, contextlib.suppress(OSError, TimeoutError):
            busy = ServiceUnavailable("Too many downloads at once; try again soon")
            await _send(connection, _error_answer(busy, keep_alive=False))

    async def _converse(self, connection: socket.socket) -> None:
        """Answer requests on one connection until the client closes it, stalls, or sends
        something that is not a request."""
        received = bytearray()
        with connection, contextlib.suppress(OSError, TimeoutError):
            while True:
                try:
                    async with asyncio.timeout(HEAD_TIMEOUT):
                        head = await _request_head(connection, received)
                    if head is None:
                        return
                    request = parse_request(head)
                except ApiError as exc:  # not a request: say why, and hang up
                    await _send(connection, _error_answer(exc, keep_alive=False))
                    return
                try:
                    await self._answer(connection, request)
                except (OSError, TimeoutError):
                    raise  # the client left or stalled: nothing more to say
                except Exception as exc:
                    if not isinstance(exc, ApiError):
                        logger.exception("The download port failed to answer %s", request.target)
                        exc = ServiceUnavailable("The download failed; try again")
                        request = replace(request, keep_alive=False)
                    answer = _error_answer(exc, keep_alive=request.keep_alive)
                    if request.method == "HEAD":
                        answer = answer[: answer.index(b"\r\n\r\n") + 4]
                    await _send(connection, answer)
                if not request.keep_alive:
                    return

    async def _answer(self, connection: socket.socket, request: Request) -> None:
        if request.method not in ("GET", "HEAD"):
            raise MethodNotAllowed("Downloads are GET or HEAD", headers={"Allow": "GET, HEAD"})
        grant = self._grant(request.target)
        path = self._files_dir / DiskStore.relative_path(grant.file_id)
        try:
            file = await asyncio.to_thread(open, path, "rb")
        except FileNotFoundError:
            raise NotFound("File not found") from None
        with file:
            if os.fstat(file.fileno()).st_size != grant.size:
                raise NotFound("File not found")
            head, body = _response(grant, request)
            await _send(connection, head)
            if request.method != "GET":
                return
            try:
                await _send_body(connection, file, body)
            except Exception as exc:  # the head is out: all that is left is to hang up
                if not isinstance(exc, OSError | TimeoutError):
                    logger.exception("The download port failed sending %s", grant.file_id)
                raise ConnectionAbortedError("The download was cut short") from exc

    def _grant(self, target: str) -> DownloadGrant:
        """The grant the request's target carries; 404 for anything else."""
        url = urlsplit(target)
        segments = url.path.split("/")
        if len(segments) == 4 and segments[:2] == ["", "files"]:
            try:
                pairs = parse_qsl(url.query, max_num_fields=len(GRANT_FIELDS))
            except ValueError:
                pairs = []
            query = dict(pairs)
            if len(query) == len(pairs):
                file_id, filename = unquote(segments[2]), unquote(segments[3])
                grant = self._signer.read(file_id, filename, query)
                if grant is not None:
                    return grant
        raise NotFound("File not found, or the link has expired")


BodyPart = bytes | tuple[int, int]  # bytes as they are, or (first, last) bytes of the file


def _response(grant: DownloadGrant, request: Request) -> tuple[bytes, list[BodyPart]]:
    """The answer's head and what its body is made of: the whole file, one span of it, or
    several as multipart/byteranges (as the API's download route answers)."""
    headers = {**file_headers(grant.filename, grant.content_hash), "Accept-Ranges": "bytes"}
    range_header = request.headers.get("range")
    spans = requested_spans(range_header, grant.size) if range_header else None
    if request.headers.get("if-range", headers["ETag"]) != headers["ETag"]:
        spans = None  # the file changed: all of it, not a part
    body: list[BodyPart]
    if spans is None:
        status, media_type, length = HTTPStatus.OK, grant.mime, grant.size
        body = [(0, grant.size - 1)] if grant.size else []
    elif len(spans) == 1:
        (first, last), media_type = spans[0], grant.mime
        status, length, body = HTTPStatus.PARTIAL_CONTENT, last + 1 - first, [spans[0]]
        headers["Content-Range"] = f"bytes {first}-{last}/{grant.size}"
    else:
        multipart = MultipartRanges(spans, grant.mime, grant.size)
        status, media_type = HTTPStatus.PARTIAL_CONTENT, multipart.media_type
        length, body = multipart.content_length, list(_framed(multipart))
    headers |= {"Content-Type": media_type, "Content-Length": str(length)}
    if not request.keep_alive:
        headers["Connection"] = "close"
    return _head(status, headers), body


def _framed(multipart: MultipartRanges) -> Iterator[BodyPart]:
    for head, span in zip(multipart.heads, multipart.spans, strict=True):
        yield from (head, span, b"\r\n")
    yield multipart.tail


def _head(status: HTTPStatus, headers: dict[str, str]) -> bytes:
    lines = [f"HTTP/1.1 {status.value} {status.phrase}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", errors="replace")


def _error_answer(error: ApiError, *, keep_alive: bool) -> bytes:
    body = json.dumps({"detail": error.detail, "code": error.code}).encode()
    headers = {
        **error.headers,
        "Content-Type": "application/json",
        "Content-Length": str(len(body)),
    }
    if not keep_alive:
        headers["Connection"] = "close"
    return _head(HTTPStatus(error.status), headers) + body


async def _request_head(connection: socket.socket, received: bytearray) -> bytes | None:
    """The next request head on the connection (what follows it stays in `received`); None
    when the client closed the connection between requests."""
    loop = asyncio.get_running_loop()
    while (end := received.find(b"\r\n\r\n")) < 0:
        if len(received) > MAX_HEAD_BYTES:
            raise HeadTooLarge(f"The request head is longer than {MAX_HEAD_BYTES} bytes")
        data = await loop.sock_recv(connection, MAX_HEAD_BYTES)
        if not data:
            if received:
                raise BadRequest("The request head was cut short")
            return None
        received += data
    if end > MAX_HEAD_BYTES:
        raise HeadTooLarge(f"The request head is longer than {MAX_HEAD_BYTES} bytes")
    head = bytes(received[:end])
    del received[: end + 4]
    return head


async def _send(connection: socket.socket, data: bytes) -> None:
    """All of `data`; `TimeoutError` when the client takes it not within `STALL_TIMEOUT`."""
    async with asyncio.timeout(STALL_TIMEOUT):
        await asyncio.get_running_loop().sock_sendall(connection, data)


async def _send_body(connection: socket.socket, file: BinaryIO, body: list[BodyPart]) -> None:
    for part in body:
        if isinstance(part, bytes):
            await _send(connection, part)
        else:
            first, last = part
            await _send_file_span(connection, file, first, last + 1 - first)


async def _send_file_span(
    connection: socket.socket, file: BinaryIO, offset: int, count: int
) -> None:
    """`count` bytes of the file from `offset`, from the page cache to the socket in the
    kernel; `TimeoutError` when the client takes nothing for `STALL_TIMEOUT`."""
    loop = asyncio.get_running_loop()
    sending = _FileSending(connection.fileno(), file.fileno(), offset, offset + count)
    loop.add_writer(sending.socket_fd, sending.send_some)
    try:
        taken = -1
        while taken != sending.position:
            taken = sending.position
            await asyncio.wait([sending.finished], timeout=STALL_TIMEOUT)
            if sending.finished.done():
                return sending.finished.result()
        raise TimeoutError("The client took nothing for a while")
    finally:
        loop.remove_writer(sending.socket_fd)


@dataclass
class _FileSending:
    """One span's `sendfile` calls, made whenever the socket can take more (as asyncio's own
    `sock_sendfile` does, but with no coroutine step per call: measured, a coroutine step
    per MiB cost more CPU than the kernel's copying). The bytes ahead are read from the disk
    on a worker thread, so that `sendfile` on the event loop finds them in the page cache."""

    socket_fd: int
    file_fd: int
    position: int
    end: int
    finished: asyncio.Future[None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )
    read_ahead_to: int = 0

    def send_some(self) -> None:
        try:
            while self.position < self.end:
                self._read_ahead()
                left = self.end - self.position
                sent = os.sendfile(self.socket_fd, self.file_fd, self.position, left)
                if sent == 0:
                    raise ConnectionError("The file ended before its size")
                self.position += sent
        except BlockingIOError:
            return
        except OSError as exc:
            if not self.finished.done():
                self.finished.set_exception(exc)
            return
        if not self.finished.done():
            self.finished.set_result(None)

    def _read_ahead(self) -> None:
        start = max(self.read_ahead_to, self.position)
        if start < min(self.end, self.position + READ_AHEAD_BYTES):
            self.read_ahead_to = min(self.end, start + READ_AHEAD_BYTES)
            window = self.read_ahead_to - start
            asyncio.get_running_loop().run_in_executor(
                _READ_AHEAD, _read_ahead, self.file_fd, start, window
            )


def _read_ahead(file_fd: int, offset: int, count: int) -> None:
    with contextlib.suppress(OSError):  # a hint: the file may have been closed meanwhile
        os.posix_fadvise(file_fd, offset, count, os.POSIX_FADV_WILLNEED)
