"""The little HTTP/1.1 that HyperSend's own byte listeners speak (the download port, the
upload port): request heads read and parsed within bounds, answers and errors in the API's
shape. Everything else goes through granian."""

import asyncio
import contextlib
import json
import logging
import re
import socket
from abc import ABC, abstractmethod
from dataclasses import dataclass
from http import HTTPStatus

from hypersend.errors import ApiError, BadRequest, ServiceUnavailable

logger = logging.getLogger("hypersend.http1")

MAX_HEAD_BYTES = 16 * 1024
HEAD_TIMEOUT = 15.0  # to send a request head, and to start the next on a kept-alive connection
STALL_TIMEOUT = 60.0  # a client that takes (or sends) no byte for this long is let go
ACCEPT_RETRY_SECONDS = 0.1
MAX_DIGITS = 19
_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
_SINGLE_HEADERS = ("range", "if-range", "host", "content-length", "expect", "x-chunk-sha256")


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
    with well-formed header lines and no header that matters given twice."""
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
        if key in headers and key in _SINGLE_HEADERS:
            raise BadRequest(f"{name} given twice")
        headers[key] = value.strip(" \t")
    connection = headers.get("connection", "").lower()
    by_default = version == "HTTP/1.1"  # HTTP/1.0 closes unless asked to keep alive
    keep_alive = "close" not in connection if by_default else "keep-alive" in connection
    return Request(method, target, headers, keep_alive)


def plain_number(text: str) -> int | None:
    """`text` as a whole number when it is plain ASCII digits, at most 19 of them (it fits
    in 64 bits); None otherwise (signs, spaces, exponents, other scripts' digits)."""
    if text.isascii() and text.isdigit() and len(text) <= MAX_DIGITS:
        return int(text)
    return None


def response_head(status: HTTPStatus, headers: dict[str, str]) -> bytes:
    lines = [f"HTTP/1.1 {status.value} {status.phrase}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", errors="replace")


def json_answer(
    status: HTTPStatus, data: object, *, keep_alive: bool, headers: dict[str, str] | None = None
) -> bytes:
    body = json.dumps(data).encode()
    all_headers = {
        **(headers or {}),
        "Content-Type": "application/json",
        "Content-Length": str(len(body)),
    }
    if not keep_alive:
        all_headers["Connection"] = "close"
    return response_head(status, all_headers) + body


def error_answer(error: ApiError, *, keep_alive: bool) -> bytes:
    """`error` as the API answers it: `{detail, code}` with its status and headers."""
    data = {"detail": error.detail, "code": error.code}
    return json_answer(HTTPStatus(error.status), data, keep_alive=keep_alive, headers=error.headers)


def answerable(exc: Exception, request: Request, failure: str) -> ApiError:
    """What to answer for `exc`, raised while answering `request`: itself when it is one of
    the API's errors, else (logged: a failure of our own) 503 saying `failure`."""
    if isinstance(exc, ApiError):
        return exc
    logger.error("Failed to answer %s %s", request.method, request.target, exc_info=exc)
    return ServiceUnavailable(failure)


async def read_request_head(connection: socket.socket, received: bytearray) -> bytes | None:
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


async def send(connection: socket.socket, data: bytes) -> None:
    """All of `data`; `TimeoutError` when the client takes it not within `STALL_TIMEOUT`."""
    async with asyncio.timeout(STALL_TIMEOUT):
        await asyncio.get_running_loop().sock_sendall(connection, data)


def hang_up(connection: socket.socket) -> None:
    """End the connection both ways now: a thread blocked receiving from it or sending to it
    returns at once (the socket itself is closed by its owner)."""
    with contextlib.suppress(OSError):
        connection.shutdown(socket.SHUT_RDWR)


class Listener(ABC):
    """Accepts connections and reads their requests' heads, within bounds; what to answer
    is the subclass's (`answer`). At most `max_connections` connections at once: more are
    answered 503 and closed. Running out of descriptors pauses accepting."""

    busy_message = "Too busy; try again soon"

    def __init__(self, *, max_connections: int) -> None:
        self._max_connections = max_connections
        self._connections: set[asyncio.Task[None]] = set()

    async def serve(self, listener: socket.socket) -> None:
        """Accept connections on `listener` until cancelled."""
        loop = asyncio.get_running_loop()
        listener.setblocking(False)
        try:
            while True:
                try:
                    connection, _ = await loop.sock_accept(listener)
                except OSError as exc:  # out of descriptors or memory: let some connections end
                    logger.warning("%s cannot accept a connection: %s", type(self).__name__, exc)
                    await asyncio.sleep(ACCEPT_RETRY_SECONDS)
                    continue
                if len(self._connections) >= self._max_connections:
                    task = asyncio.create_task(self._refuse(connection))
                else:
                    task = asyncio.create_task(self._converse(connection))
                self._connections.add(task)
                task.add_done_callback(self._connections.discard)
        finally:  # stopping: end the conversations, and wait until they have ended
            conversations = list(self._connections)
            for task in conversations:
                task.cancel()
            await asyncio.gather(*conversations, return_exceptions=True)

    @abstractmethod
    async def answer(
        self, connection: socket.socket, request: Request, received: bytearray
    ) -> bool:
        """Answer `request` (errors included; what the client sent after the head is in
        `received`, to take from); whether the connection may carry another request."""

    async def _refuse(self, connection: socket.socket) -> None:
        with connection, contextlib.suppress(OSError, TimeoutError):
            busy = ServiceUnavailable(self.busy_message)
            await send(connection, error_answer(busy, keep_alive=False))

    async def _converse(self, connection: socket.socket) -> None:
        """Answer requests on one connection until the client closes it, stalls, or sends
        something that is not a request."""
        received = bytearray()
        with connection, contextlib.suppress(OSError, TimeoutError):
            while True:
                try:
                    async with asyncio.timeout(HEAD_TIMEOUT):
                        head = await read_request_head(connection, received)
                    if head is None:
                        return
                    request = parse_request(head)
                except ApiError as exc:  # not a request: say why, and hang up
                    await send(connection, error_answer(exc, keep_alive=False))
                    return
                if not await self.answer(connection, request, received):
                    return
                if not request.keep_alive:
                    return
