"""A span of a file sent to a client's socket by `sendfile(2)`: the kernel moves the bytes.

Two ways, chosen per span:

- **On a thread of its own** (a span of at least `THREAD_SPAN_BYTES`, while one of the
  process's `SENDING_THREADS` is free): the socket is made blocking and the thread makes
  `sendfile` calls that each last as long as the client keeps taking bytes, so no Python runs
  while they move. Measured (`bench/downloads.py`, 2 GiB by curl, 2026-12-01): a whole file
  0.070 CPU-s/GiB and a Range 0.055 to 0.065, against 0.125 for both from the event loop
  (nginx's `sendfile` 0.06 to 0.07 in the same runs).
- **From the event loop's writer callbacks** (smaller spans, such as multipart ranges, and
  any span while every thread is busy): one `sendfile` whenever the socket can take more,
  while a worker thread reads the bytes ahead into the page cache, so that the loop does not
  wait on the disk.

Either way a client that takes nothing for the stall timeout (`STALL_TIMEOUT`) ends the
download (the thread's socket has it as `SO_SNDTIMEO`), and a server that stops hangs up on
a sending thread and waits for it before the file and the socket close
(`worker_threads.to_the_end`).
"""

import asyncio
import contextlib
import os
import socket
import struct
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from hypersend.http1 import STALL_TIMEOUT, hang_up
from hypersend.worker_threads import to_the_end

SENDING_THREADS = 32
THREAD_SPAN_BYTES = 4 * 1024 * 1024
READ_AHEAD_BYTES = 16 * 1024 * 1024
_READ_AHEAD = ThreadPoolExecutor(2, thread_name_prefix="read-ahead")


class SpanSender:
    """Sends spans of files for one process's download port, each the cheapest way free."""

    def __init__(
        self, threads: int = SENDING_THREADS, *, stall_timeout: float = STALL_TIMEOUT
    ) -> None:
        self._threads = ThreadPoolExecutor(threads, thread_name_prefix="sendfile")
        self._free_threads = threads
        self._stall_timeout = stall_timeout
        seconds, fraction = divmod(stall_timeout, 1)
        self._stall_timeval = struct.pack("ll", int(seconds), int(fraction * 1_000_000))

    async def send(self, connection: socket.socket, file_fd: int, offset: int, count: int) -> None:
        """`count` bytes of the file from `offset`; `TimeoutError` when the client takes
        nothing for the stall timeout, `OSError` when it goes away."""
        if count < THREAD_SPAN_BYTES or not self._free_threads:
            await _send_from_loop(connection, file_fd, offset, count, self._stall_timeout)
            return
        self._free_threads -= 1
        try:
            connection.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, self._stall_timeval)
            connection.setblocking(True)
            await to_the_end(
                self._threads,
                _send_blocking,
                connection.fileno(),
                file_fd,
                offset,
                count,
                stop=lambda: hang_up(connection),
            )
        finally:
            connection.setblocking(False)
            self._free_threads += 1


def _send_blocking(socket_fd: int, file_fd: int, offset: int, count: int) -> None:
    end = offset + count
    while offset < end:
        try:
            sent = os.sendfile(socket_fd, file_fd, offset, end - offset)
        except BlockingIOError:  # SO_SNDTIMEO passed with nothing taken
            raise TimeoutError("The client took nothing for a while") from None
        if sent == 0:
            raise ConnectionError("The file ended before its size")
        offset += sent


async def _send_from_loop(
    connection: socket.socket, file_fd: int, offset: int, count: int, stall_timeout: float
) -> None:
    loop = asyncio.get_running_loop()
    sending = _FileSending(connection.fileno(), file_fd, offset, offset + count)
    loop.add_writer(sending.socket_fd, sending.send_some)
    try:
        taken = -1
        while taken != sending.position:
            taken = sending.position
            await asyncio.wait([sending.finished], timeout=stall_timeout)
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
