"""What the client's streaming protocols share (HTTP bodies in `response_stream.py`, WebSocket
payloads in `websocket_stream.py`): both read an HTTP/1.1 answer's head first, then have the
socket write straight into a few reused buffers (`recv_into`, no copy through asyncio's
stream buffers); full ones wait for the reader, and reading from the socket pauses while the
reader holds them all (backpressure)."""

import asyncio

BUFFER_SIZE = 1024 * 1024
BUFFERS = 4  # one being filled, others being written or hashed: 4 MiB per stream at most
HEAD_LIMIT = 64 * 1024  # the longest answer head accepted


class ResponseTooLarge(ValueError):
    """The answer's head (or a small body) is longer than `HEAD_LIMIT`."""


def parse_head(head: bytes) -> tuple[int, dict[str, str]]:
    """An answer's head (without its closing blank line): the status and the headers, names
    lowercased. ValueError if it is not an HTTP answer."""
    lines = head.decode("latin-1").split("\r\n")
    try:
        status = int(lines[0].split(" ", 2)[1])
    except (IndexError, ValueError):
        raise ValueError(f"Not an HTTP answer: {lines[0][:80]!r}") from None
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers


class BufferedReceiver(asyncio.BufferedProtocol):
    def __init__(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._transport: asyncio.Transport | None = None
        self._scratch = bytearray(HEAD_LIMIT)  # where the head's bytes are received
        self._head = bytearray()  # until the head is complete; then what came after it
        self._head_ready: asyncio.Future[tuple[int, dict[str, str]]] = self._loop.create_future()
        self._free = [bytearray(BUFFER_SIZE) for _ in range(BUFFERS)]
        self._filling: bytearray | None = None  # the buffer the socket writes into
        self._filled = 0
        self._wakeup: asyncio.Future[None] | None = None
        self._paused = False

    async def head(self) -> tuple[int, dict[str, str]]:
        """The answer's status and headers (names lowercased)."""
        return await asyncio.shield(self._head_ready)

    def abort(self) -> None:
        """Drop the connection at once."""
        if self._transport is not None:
            self._transport.abort()

    # What the event loop calls

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def eof_received(self) -> bool | None:
        return None  # close the transport

    def connection_lost(self, exc: Exception | None) -> None:
        if not self._head_ready.done():
            self._head_ready.set_exception(ConnectionError("The server closed the connection"))
        self._wake()

    # Inside

    def _receive_head(self, nbytes: int) -> bool:
        """Take `nbytes` received into the scratch buffer; True when they complete the head
        (then `head()` has it, and `_head` holds what came after it)."""
        self._head += self._scratch[:nbytes]
        if self._head_ready.done():
            return False
        end = self._head.find(b"\r\n\r\n")
        if end < 0:
            if len(self._head) > HEAD_LIMIT:
                self._head_ready.set_exception(ResponseTooLarge("The answer's head is too long"))
                self.abort()
            return False
        head = bytes(self._head[:end])
        del self._head[: end + 4]
        try:
            self._head_ready.set_result(parse_head(head))
        except ValueError as exc:
            self._head_ready.set_exception(exc)
            self.abort()
            return False
        return True

    def _start_filling(self) -> bytearray:
        """The buffer being filled; a free one if none is."""
        if self._filling is None:
            self._filling, self._filled = self._free.pop(), 0
        return self._filling

    def _give_back(self, buffer: bytearray) -> None:
        """The reader is done with `buffer`: the socket may fill it again."""
        self._free.append(buffer)
        self._resume()

    async def _woken(self) -> None:
        """Wait until the event loop's side has news for the reader (`_wake`)."""
        self._wakeup = self._loop.create_future()
        await self._wakeup

    def _wake(self) -> None:
        if self._wakeup is not None and not self._wakeup.done():
            self._wakeup.set_result(None)

    def _pause(self) -> None:
        if not self._paused and self._transport is not None:
            self._paused = True
            self._transport.pause_reading()

    def _resume(self) -> None:
        if self._paused and self._transport is not None:
            self._paused = False
            self._transport.resume_reading()
