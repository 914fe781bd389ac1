"""Writing a chunk's bytes past the page cache (`O_DIRECT`), where the file system allows it.

A buffered `write` copies every byte into the page cache, and the kernel later writes the
dirty pages back, page by page (with durable uploads inside the server's `fdatasync`); four
streams writing one file also queue on its inode lock. An `O_DIRECT` write hands the buffer
to the disk as it is. Measured on this project's VM (ext4): one thread writing 1 GiB in 1 MiB
writes, SHA-256 of each, `fdatasync` every 8 MiB, 1.51 CPU-s/GiB buffered against 0.68 direct
(SHA-256 alone 0.60); a whole upload (`bench/uploads.py`) 4.1 -> 2.5 CPU-s/GiB through the
chunk route and 2.2 -> 1.4 through the upload port. Uploaded bytes are read again later, by
other people, if at all: keeping them in the page cache buys little.

`O_DIRECT` asks for aligned buffers, offsets and lengths: the buffer is page-aligned
(`mmap`), writes are whole buffers at offsets that are multiples of `ALIGNMENT` (the
logical block size of every Linux block device divides it). What is not aligned (a chunk
size that is not a multiple of it, the file's short last chunk), every file system that
refuses `O_DIRECT` (tmpfs before Linux 6.6, some network file systems) and a server set with
`DIRECT_WRITES=false` go through the page cache.
"""

import errno
import fcntl
import mmap
import os
import threading
from collections.abc import Iterable, Sequence

ALIGNMENT = 4096
BUFFER_BYTES = 1024 * 1024
_buffers = threading.local()


class AlignedWriter:
    """Bytes that come in order, written at consecutive offsets of `fd` from `position`, a
    whole `buffer` (page-aligned: `aligned_buffer`) at a time, past the page cache if
    `direct`. Fill `room()` and say how much with `took`, or `put` bytes (copied in);
    `finish` writes the rest (a `with` block does, when it ends without an error). One thread
    at a time uses it and its buffer; `fd` is the writer's own while it writes (its `O_DIRECT`
    flag is turned on and back off)."""

    def __init__(self, fd: int, position: int, buffer: memoryview, *, direct: bool) -> None:
        self._fd = fd
        self._position = position
        self._buffer = buffer
        self._filled = 0
        self._direct = direct and position % ALIGNMENT == 0 and _set_direct(fd, on=True)

    def room(self) -> memoryview:
        """The part of the buffer still free (never empty)."""
        return self._buffer[self._filled :]

    def took(self, count: int) -> None:
        """`count` bytes were put at the start of `room()`."""
        self._filled += count
        if self._filled == len(self._buffer):
            self._write_out()

    def put(self, data: bytes | memoryview) -> None:
        view = memoryview(data)
        while view:
            room = self.room()
            count = min(len(room), len(view))
            room[:count] = view[:count]
            self.took(count)
            view = view[count:]

    def put_all(self, pieces: Iterable[bytes | memoryview]) -> None:
        for piece in pieces:
            self.put(piece)

    def _write_out(self) -> None:
        pending = self._buffer[: self._filled]
        if self._direct and self._filled % ALIGNMENT:
            self._stop_direct()
        if self._direct:
            try:
                write_at(self._fd, [pending], self._position)
            except OSError as exc:
                if exc.errno != errno.EINVAL:  # an alignment this device does not take
                    raise
                self._stop_direct()
        if not self._direct:
            write_at(self._fd, [pending], self._position)
        self._position += self._filled
        self._filled = 0

    def _stop_direct(self) -> None:
        self._direct = False
        _set_direct(self._fd, on=False)

    def finish(self) -> None:
        """Write what is left in the buffer; the file's flags as they were."""
        try:
            if self._filled:
                self._write_out()
        finally:
            self.release()

    def release(self) -> None:
        """The file's flags as they were (`O_DIRECT` off), what is left unwritten."""
        if self._direct:
            self._stop_direct()

    def __enter__(self) -> "AlignedWriter":
        return self

    def __exit__(self, error: type[BaseException] | None, *_: object) -> None:
        if error is None:
            self.finish()
        else:
            self.release()


def _set_direct(fd: int, *, on: bool) -> bool:
    """Turn `O_DIRECT` on or off for `fd`; False where the file system does not have it."""
    flags = fcntl.fcntl(fd, fcntl.F_GETFL)
    try:
        fcntl.fcntl(fd, fcntl.F_SETFL, flags | os.O_DIRECT if on else flags & ~os.O_DIRECT)
    except OSError as exc:
        if exc.errno != errno.EINVAL:
            raise
        return False
    return True


def aligned_buffer() -> memoryview:
    """A page-aligned buffer of `BUFFER_BYTES` (its memory is given back when the last view
    of it goes)."""
    return memoryview(mmap.mmap(-1, BUFFER_BYTES))


def thread_buffer() -> memoryview:
    """This thread's own `aligned_buffer`, made once: for work that starts and ends on one
    thread."""
    view: memoryview | None = getattr(_buffers, "view", None)
    if view is None:
        view = _buffers.view = aligned_buffer()
    return view


def write_at(fd: int, pieces: Sequence[bytes | memoryview], position: int) -> None:
    """Write the pieces back to back at `position` (one `pwritev`, resumed if it is short)."""
    views = [memoryview(piece) for piece in pieces]
    while views:
        written = os.pwritev(fd, views, position)
        position += written
        while views and written >= len(views[0]):
            written -= len(views[0])
            views.pop(0)
        if views and written:
            views[0] = views[0][written:]
