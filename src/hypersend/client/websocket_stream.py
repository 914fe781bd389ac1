"""A client WebSocket for streaming a file's bytes: the P2P relay's two ends.

The `websockets` library treats each 1 MiB binary frame as a whole message and copies it
several times on its way in and out (its read buffer, frame assembly, masking into a new
frame, the transport's buffer): measured on the P2P relay, 1.8 s of `memmove` per 2 GiB on
the event loop's thread, and relays at 0.35-0.38 GB/s. Here binary payloads are received
straight into a few reused buffers (as `response_stream.py` does for HTTP bodies), and each
outgoing frame is masked in one pass: 0.42-0.55 GB/s (bench/README.md). Text frames (the
relay's control messages), ping and pong, fragmented messages and the closing handshake
follow RFC 6455; frames from the server must not be masked, as the RFC requires.
"""

import asyncio
import contextlib
import os
import struct
from collections import deque
from collections.abc import AsyncIterator

try:
    from websockets.speedups import apply_mask
except ImportError:  # pragma: no cover (no C extension on this platform)
    from websockets.utils import apply_mask

from websockets.utils import accept_key, generate_key

from hypersend.client.buffered_receiver import BUFFER_SIZE, BufferedReceiver
from hypersend.client.errors import AuthError
from hypersend.client.http import ApiSession
from hypersend.client.raw_http import CONNECT_TIMEOUT, RawConnection

TEXT_LIMIT = 64 * 1024  # the longest text or control message accepted
CLOSE_TIMEOUT = 5.0
PING_INTERVAL = 20.0  # as the `websockets` library does

CONTINUATION, TEXT, BINARY, CLOSE, PING, PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
PROTOCOL_ERROR, TOO_BIG = 1002, 1009


class HandshakeRefused(ConnectionError):
    """The server answered the upgrade with `status` instead of 101."""

    def __init__(self, status: int, headers: dict[str, str]) -> None:
        super().__init__(f"The server refused the WebSocket ({status})")
        self.status = status
        self.headers = headers


def upgrade_headers() -> tuple[dict[str, str], str]:
    """The headers that ask for a WebSocket, and the `Sec-WebSocket-Accept` the server's
    answer must carry."""
    key = generate_key()
    headers = {
        "Upgrade": "websocket",
        "Connection": "Upgrade",
        "Sec-WebSocket-Key": key,
        "Sec-WebSocket-Version": "13",
    }
    return headers, accept_key(key)


def frame_header(opcode: int, length: int, mask: bytes) -> bytes:
    """The header of a final, masked frame (a client's frames are always masked)."""
    first = 0x80 | opcode
    if length < 126:
        return struct.pack("!BB", first, 0x80 | length) + mask
    if length < 1 << 16:
        return struct.pack("!BBH", first, 0x80 | 126, length) + mask
    return struct.pack("!BBQ", first, 0x80 | 127, length) + mask


class WebSocketStream(BufferedReceiver):
    """One client WebSocket: `handshake()`, then `incoming()`, `send_binary()`,
    `send_text()`, and `close()`. After the connection ends, `close_code` and `close_reason`
    say how (None and "" when it broke without a closing handshake)."""

    def __init__(self) -> None:
        super().__init__()
        self.close_code: int | None = None
        self.close_reason = ""
        self._close_sent = False
        self._last_sent = self._loop.time()
        self._lost: asyncio.Future[None] = self._loop.create_future()
        self._writable = asyncio.Event()
        self._writable.set()
        # Receiving: the handshake's answer, then frames: a header, then its payload.
        self._upgraded = False
        self._header = bytearray(10)
        self._header_have, self._header_need = 0, 2
        self._opcode = 0
        self._final = True
        self._payload_left: int | None = None  # None: reading a header
        self._message_opcode = 0  # TEXT or BINARY while a message's frames come in
        self._message = bytearray()  # a text message's payload, as it arrives
        self._control = bytearray()  # a close, ping or pong frame's payload
        self._sink: bytearray | None = None  # where this frame's payload goes (None: buffers)
        self._ready: deque[tuple[bytearray, int] | str] = deque()

    # What the caller uses

    async def handshake(self, request: bytes, accept: str) -> None:
        """Send the upgrade request; HandshakeRefused unless the server switches protocols."""
        self._write(request)
        status, headers = await self.head()
        upgraded = headers.get("upgrade", "").lower() == "websocket"
        if status != 101 or not upgraded or headers.get("sec-websocket-accept") != accept:
            self.abort()
            raise HandshakeRefused(status, headers)

    async def incoming(self) -> AsyncIterator[memoryview | str]:
        """Binary payload in pieces of up to `BUFFER_SIZE` bytes (frame boundaries are not
        kept: the bytes are a stream), and each text message whole, in the order they came;
        until the server closes. A piece is valid until the next one is asked for."""
        while True:
            while not self._ready:
                if self.close_code is not None or self._lost.done():
                    return
                await self._woken()
            item = self._ready.popleft()
            if isinstance(item, str):
                yield item
                continue
            buffer, length = item
            try:
                yield memoryview(buffer)[:length]
            finally:
                self._give_back(buffer)

    async def send_binary(self, data: bytes | memoryview) -> None:
        await self._send_frame(BINARY, data)

    async def send_text(self, text: str) -> None:
        await self._send_frame(TEXT, text.encode())

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """The closing handshake: say `code`, wait (a while) for the server to end it."""
        if self._transport is None or self._transport.is_closing():
            return
        self._send_close(code, reason)
        try:
            async with asyncio.timeout(CLOSE_TIMEOUT):
                await asyncio.shield(self._lost)
        except TimeoutError:
            self.abort()

    def leave(self, code: int = 1001, reason: str = "going away") -> None:
        """Say `code` and hang up at once, without waiting for the server's answer (the user
        pressed Ctrl-C: nothing more will be read)."""
        if self._transport is not None and not self._transport.is_closing():
            self._send_close(code, reason)
            self._transport.close()  # the close frame still goes out first

    async def keep_alive(self, interval: float) -> None:
        """Ping whenever nothing was sent for `interval` seconds, until the socket closes:
        proxies close connections that stay quiet (a receiver waiting for its sender)."""
        while not self._close_sent and not self._lost.done():
            quiet = self._loop.time() - self._last_sent
            if quiet >= interval:
                self._write_frame(PING, b"")
                quiet = 0.0
            await asyncio.sleep(interval - quiet)

    async def wait_closed(self) -> None:
        await asyncio.shield(self._lost)

    # What the event loop calls

    def get_buffer(self, sizehint: int) -> memoryview:
        if not self._upgraded:
            return memoryview(self._scratch)
        return self._target()

    def buffer_updated(self, nbytes: int) -> None:
        if not self._upgraded:
            if self._receive_head(nbytes):
                self._upgrade()
        else:
            self._advance(nbytes)
        self._wake()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self._lost.done():
            self._lost.set_result(None)
        self._writable.set()  # a waiting sender finds the connection gone
        super().connection_lost(exc)

    def pause_writing(self) -> None:
        self._writable.clear()

    def resume_writing(self) -> None:
        self._writable.set()

    # Inside: the handshake's answer

    def _upgrade(self) -> None:
        """The handshake's answer is in: frames follow, if it switched protocols."""
        status, _ = self._head_ready.result()
        if status != 101:  # what follows is an HTTP body, not frames: `handshake` refuses it
            self._pause()
            return
        self._upgraded = True
        early = memoryview(bytes(self._head))  # frames sent right after the answer
        self._head = bytearray()
        while early and not self._lost.done() and self._transport is not None:
            if self._transport.is_closing():
                return
            target = self._target()
            count = min(len(target), len(early))
            target[:count] = early[:count]
            self._advance(count)
            early = early[count:]

    # Inside: frames

    def _target(self) -> memoryview:
        """Where the next received bytes go: the rest of a header, of a text or control
        frame's payload, or a payload buffer (no more than the frame has left)."""
        if self._payload_left is None:
            return memoryview(self._header)[self._header_have : self._header_need]
        if self._sink is not None:
            return memoryview(self._sink)[len(self._sink) - self._payload_left :]
        buffer = self._start_filling()
        return memoryview(buffer)[
            self._filled : min(BUFFER_SIZE, self._filled + self._payload_left)
        ]

    def _advance(self, count: int) -> None:
        """`count` bytes were put where `_target()` said."""
        if self._payload_left is None:
            self._header_have += count
            if self._header_have == self._header_need:
                self._header_complete()
            return
        self._payload_left -= count
        if self._filling is not None:
            self._filled += count
            if self._filled == BUFFER_SIZE or self._payload_left == 0:
                self._ready.append((self._filling, self._filled))
                self._filling = None
                if not self._free:
                    self._pause()  # the reader holds every buffer: let TCP push back
        if self._payload_left == 0:
            self._frame_complete()

    def _header_complete(self) -> None:
        first, second = self._header[0], self._header[1]
        if self._header_need == 2:
            if second & 0x80 or first & 0x70:
                self._fail(PROTOCOL_ERROR, "masked or extended frame from the server")
                return
            self._header_need += {126: 2, 127: 8}.get(second & 0x7F, 0)
            if self._header_need > 2:
                return
        length = second & 0x7F
        if length == 126:
            length = struct.unpack_from("!H", self._header, 2)[0]
        elif length == 127:
            length = struct.unpack_from("!Q", self._header, 2)[0]
        self._header_have, self._header_need = 0, 2
        self._final, self._opcode = bool(first & 0x80), first & 0x0F
        if self._opcode in (CLOSE, PING, PONG):
            if length > 125 or not self._final:
                self._fail(PROTOCOL_ERROR, "bad control frame")
                return
            self._sink = self._control = bytearray(length)
        elif self._opcode in (TEXT, BINARY):
            self._message_opcode, self._message = self._opcode, bytearray()
        elif self._opcode != CONTINUATION or not self._message_opcode:
            self._fail(PROTOCOL_ERROR, "unexpected frame")
            return
        if self._opcode in (TEXT, BINARY, CONTINUATION):
            text = self._message_opcode == TEXT
            if text and len(self._message) + length > TEXT_LIMIT:
                self._fail(TOO_BIG, "message too big")
                return
            self._sink = self._message if text else None
            if text:
                self._message += bytes(length)
        self._payload_left = length
        if length == 0:
            self._frame_complete()

    def _frame_complete(self) -> None:
        self._payload_left = None
        if self._opcode == CLOSE:
            self._closed_by_server(bytes(self._control))
        elif self._opcode == PING:
            self._write_frame(PONG, bytes(self._control))
        elif self._opcode in (TEXT, BINARY, CONTINUATION) and self._final:
            if self._message_opcode == TEXT:
                self._ready.append(self._message.decode("utf-8", errors="replace"))
            self._message_opcode, self._message = 0, bytearray()

    def _closed_by_server(self, payload: bytes) -> None:
        code, reason = (
            (1005, b"") if len(payload) < 2 else (struct.unpack("!H", payload[:2])[0], payload[2:])
        )
        self.close_code, self.close_reason = code, reason.decode("utf-8", errors="replace")
        if not self._close_sent:
            self._send_close(code if code != 1005 else 1000, "")

    def _fail(self, code: int, reason: str) -> None:
        self.close_code, self.close_reason = code, reason
        self._send_close(code, reason)
        self.abort()

    # Inside: sending

    async def _send_frame(self, opcode: int, payload: bytes | memoryview) -> None:
        await self._writable.wait()
        if self._close_sent or self._lost.done():
            raise ConnectionError(
                f"The WebSocket is closed ({self.close_code}: {self.close_reason})"
            )
        self._write_frame(opcode, payload)

    def _write_frame(self, opcode: int, payload: bytes | memoryview) -> None:
        self._last_sent = self._loop.time()
        mask = os.urandom(4)
        self._write(frame_header(opcode, len(payload), mask))
        self._write(apply_mask(payload, mask))

    def _send_close(self, code: int, reason: str) -> None:
        if not self._close_sent:
            self._close_sent = True
            self._write_frame(CLOSE, struct.pack("!H", code) + reason.encode()[:123])

    def _write(self, data: bytes) -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._transport.write(data)


async def _handshake(api: ApiSession, path: str) -> WebSocketStream:
    """A WebSocket that the server has switched to, signed in with the current token."""
    connection = RawConnection(api)
    stream = await connection.open(WebSocketStream)
    try:
        headers, accept = upgrade_headers()
        request = connection.request_head(
            "GET", connection.target(path), headers | api.auth_headers()
        )
        async with asyncio.timeout(CONNECT_TIMEOUT):
            await stream.handshake(request, accept)
    except BaseException:
        await stream.close()
        raise
    return stream


async def connect_websocket(api: ApiSession, path: str) -> WebSocketStream:
    """A WebSocket to `path` on the server, signed in (an expired token is refreshed once).
    HandshakeRefused when the server does not switch protocols for another reason."""

    async def signed_in() -> WebSocketStream:
        try:
            return await _handshake(api, path)
        except HandshakeRefused as refused:
            if refused.status in (401, 403):  # the token: refreshed once by with_token
                raise AuthError(refused.status, "not_authenticated", "Sign in again") from refused
            raise

    return await api.with_token(signed_in)


@contextlib.asynccontextmanager
async def open_websocket(
    api: ApiSession, path: str, *, ping_interval: float = PING_INTERVAL
) -> AsyncIterator[WebSocketStream]:
    """`connect_websocket`, pinging when quiet; closed (handshake and all) on exit."""
    stream = await connect_websocket(api, path)
    keeping_alive = asyncio.create_task(stream.keep_alive(ping_interval))
    try:
        yield stream
    except (asyncio.CancelledError, KeyboardInterrupt):
        stream.leave()
        raise
    finally:
        keeping_alive.cancel()
        await stream.close()  # the closing handshake, unless it has left already
