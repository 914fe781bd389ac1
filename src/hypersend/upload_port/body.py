"""A chunk's body as the upload port receives it: straight from the socket.

On a disk store the whole chunk is received, hashed and written by one worker thread
(`write_hashed_to`: `recv_into` a reused, aligned 1 MiB buffer, SHA-256, `pwrite` past the
page cache where the file system allows it: `files.direct_io`), with no piece passing
through the event loop or Python objects per piece. Other uses (a chunk sent again, which
is only hashed) iterate it on the loop.
"""

import asyncio
import hashlib
import socket
import time
from concurrent.futures import ThreadPoolExecutor

from hypersend.files.direct_io import AlignedWriter, thread_buffer
from hypersend.files.streaming import ChunkLengthError, DirectBody
from hypersend.http1 import STALL_TIMEOUT, hang_up
from hypersend.worker_threads import to_the_end

PIECE = 1024 * 1024
SLOWEST_BYTES_PER_SECOND = 16 * 1024  # a chunk sent slower than this (after a first minute) ends
RECEIVING_THREADS = 32  # chunks received at once by one process; more wait their turn
_RECEIVING = ThreadPoolExecutor(RECEIVING_THREADS, thread_name_prefix="upload-port")
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"


class SocketBody(DirectBody):
    """The `length` bytes of a request body on `connection`, the first of which may have
    come with the head (`received`, taken from). Asked for with `Expect: 100-continue`, the
    client is told to go on when the body is first read, not before: a chunk refused before
    that is never sent."""

    def __init__(
        self, connection: socket.socket, length: int, received: bytearray, *, expects: bool
    ) -> None:
        self._connection = connection
        self.left = length
        self._early = bytes(received[:length])
        del received[:length]
        self.awaits_continue = expects
        self._deadline: float | None = None  # set when the body is first asked for

    def __aiter__(self) -> "SocketBody":
        return self

    async def __anext__(self) -> bytes:
        if not self.left:
            raise StopAsyncIteration
        await self._go_on()
        if self._early:
            piece, self._early = self._early, b""
        else:
            loop = asyncio.get_running_loop()
            async with asyncio.timeout(self._time_for_next_piece()):
                piece = await loop.sock_recv(self._connection, min(PIECE, self.left))
            if not piece:
                raise StopAsyncIteration  # cut short: the length check says so
        self.left -= len(piece)
        return piece

    async def write_hashed_to(
        self, fd: int, position: int, length: int, hasher: "hashlib._Hash", *, direct: bool
    ) -> None:
        if length != self.left:
            raise ChunkLengthError(f"Chunk has {self.left} bytes to come; expected {length}")
        await self._go_on()
        await to_the_end(  # cancelled (the server stops): the thread's receiving ends at once
            _RECEIVING,
            self._receive_into,
            fd,
            position,
            hasher,
            direct,
            stop=lambda: hang_up(self._connection),
        )

    async def drain(self) -> None:
        """Read and drop what is left of the body (so that the connection can go on)."""
        async for _ in self:
            pass

    async def _go_on(self) -> None:
        if self._deadline is None:
            self._deadline = time.monotonic() + STALL_TIMEOUT + self.left / SLOWEST_BYTES_PER_SECOND
        if self.awaits_continue:
            self.awaits_continue = False
            loop = asyncio.get_running_loop()
            async with asyncio.timeout(STALL_TIMEOUT):
                await loop.sock_sendall(self._connection, CONTINUE)

    def _receive_into(self, fd: int, position: int, hasher: "hashlib._Hash", direct: bool) -> None:
        """On a worker thread: the rest of the body, hashed and written at `position`.
        `TimeoutError` when the client sends nothing for `STALL_TIMEOUT`, or the whole body
        slower than `SLOWEST_BYTES_PER_SECOND` (after a first `STALL_TIMEOUT`)."""
        expected = self.left
        try:
            with AlignedWriter(fd, position, thread_buffer(), direct=direct) as writer:
                writer.put(self._early)
                hasher.update(self._early)
                self.left -= len(self._early)
                self._early = b""
                while self.left:
                    self._connection.settimeout(self._time_for_next_piece())
                    room = writer.room()
                    received = self._connection.recv_into(room, min(len(room), self.left))
                    if not received:
                        raise ChunkLengthError(
                            f"Chunk has {expected - self.left} bytes; expected {expected}"
                        )
                    hasher.update(room[:received])
                    writer.took(received)
                    self.left -= received
        finally:
            self._connection.setblocking(False)

    def _time_for_next_piece(self) -> float:
        """Seconds the next piece may take: `STALL_TIMEOUT`, or less once the whole body is
        near its deadline; `TimeoutError` past it."""
        assert self._deadline is not None  # set by `_go_on`
        left = min(STALL_TIMEOUT, self._deadline - time.monotonic())
        if left <= 0:
            raise TimeoutError("The chunk came too slowly")
        return left
