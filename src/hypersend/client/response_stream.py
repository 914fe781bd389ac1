"""An HTTP/1.1 response received straight into a few reused buffers.

asyncio's StreamReader copies every received byte into its own buffer, then again into the
`bytes` each read returns, and allocates those: measured here on 2 GiB downloads, that cost
more CPU than the SHA-256 the client must compute anyway. This protocol has the socket
write into a few preallocated buffers instead (`buffered_receiver.py`), hands full ones to
the reader, and stops reading from the socket while the reader holds them all.
"""

import asyncio
from collections import deque
from collections.abc import AsyncIterator

from hypersend.client.buffered_receiver import (
    BUFFER_SIZE,
    HEAD_LIMIT,
    BufferedReceiver,
    ResponseTooLarge,
)


class ResponseStream(BufferedReceiver):
    """One response: `head()`, then `start_body()` and `pieces()` for a body to stream,
    or `small_body()`."""

    def __init__(self) -> None:
        super().__init__()
        self._body_left: int | None = None  # a body with a length, once it is being read
        self._full: deque[tuple[bytearray, int]] = deque()
        self._ended: BaseException | None = None  # set when the connection is gone

    # What the reader calls

    def start_body(self, length: int) -> None:
        """Read `length` bytes of body into the buffers (those that came with the head first)."""
        early, self._head = self._head[:length], bytearray()
        self._body_left = length - len(early)
        if early:
            self._start_filling()[: len(early)] = early
            self._filled = len(early)
        self._hand_over_if_full()
        if self._body_left:
            self._resume()

    async def pieces(self, *, stall_seconds: float) -> AsyncIterator[memoryview]:
        """The body in pieces of up to `BUFFER_SIZE` bytes. A piece is valid until the next
        one is asked for: consume it (write it, hash it) before. Raises ConnectionError if
        the connection ends first, TimeoutError if nothing comes for `stall_seconds`."""
        while True:
            while not self._full:
                if self._body_left == 0 and self._filling is None:
                    return
                if self._ended is not None:
                    raise ConnectionError("The connection closed before the end of the body")
                async with asyncio.timeout(stall_seconds):
                    await self._woken()
            buffer, length = self._full.popleft()
            try:
                yield memoryview(buffer)[:length]
            finally:
                self._free.append(buffer)
                if self._body_left:
                    self._resume()

    async def small_body(self, length: int | None) -> bytes:
        """The bytes after the head (an error answer, which is small): `length` of them, or,
        without a length, all until the server closes."""
        self._resume()
        while self._ended is None and (length is None or len(self._head) < length):
            if len(self._head) > HEAD_LIMIT:
                raise ResponseTooLarge("The answer is too long")
            await self._woken()
        return bytes(self._head if length is None else self._head[:length])

    def send(self, data: bytes) -> None:
        assert self._transport is not None
        self._transport.write(data)

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()

    # What the event loop calls

    def get_buffer(self, sizehint: int) -> memoryview:
        if self._body_left is None:
            return memoryview(self._scratch)
        buffer = self._start_filling()
        return memoryview(buffer)[
            self._filled : min(BUFFER_SIZE, self._filled + max(self._body_left, 1))
        ]

    def buffer_updated(self, nbytes: int) -> None:
        if self._body_left is None:
            if self._receive_head(nbytes):
                self._pause()  # until the reader says how to take the body
        else:
            self._filled += nbytes
            self._body_left -= min(nbytes, self._body_left)
            self._hand_over_if_full()
        self._wake()

    def connection_lost(self, exc: Exception | None) -> None:
        self._ended = exc or ConnectionError("The server closed the connection")
        if self._filling is not None and self._filled:  # what did come is kept (resume)
            self._full.append((self._filling, self._filled))
            self._filling = None
        super().connection_lost(exc)

    # Inside

    def _hand_over_if_full(self) -> None:
        if self._filling is not None and (self._filled == BUFFER_SIZE or self._body_left == 0):
            self._full.append((self._filling, self._filled))
            self._filling = None
        if not self._free or self._body_left == 0:
            self._pause()  # every buffer is taken, or the body is complete
