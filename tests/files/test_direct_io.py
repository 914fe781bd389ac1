"""Writing chunks past the page cache (`files.direct_io.AlignedWriter`), on real files: the
bytes land where they belong whatever their sizes and offsets, aligned or not, on a file
system that takes `O_DIRECT` (the test's own directory, where it does) and on one that
refuses it (a memfd); the file's flags are as they were afterwards, even after a failure.
And whole uploads, through the chunk route and the upload port, with chunks that do not meet
the disk's blocks and with `DIRECT_WRITES=false`."""

import fcntl
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from hypersend.files.direct_io import ALIGNMENT, BUFFER_BYTES, AlignedWriter, aligned_buffer
from tests.support.accounts import signed_in
from tests.support.files import random_file
from tests.support.server import TEST_CHUNK_SIZE, ServerProcess, free_port

SIZES_AND_OFFSETS = [
    (3 * BUFFER_BYTES, 0),  # whole buffers at an aligned offset
    (2 * BUFFER_BYTES + 12345, ALIGNMENT * 5),  # a short, unaligned last write
    (BUFFER_BYTES - ALIGNMENT, BUFFER_BYTES),  # an aligned last write shorter than a buffer
    (BUFFER_BYTES + 7, 100_003),  # an offset no block starts at: through the page cache
    (1, 0),
]


@dataclass
class Opened:
    fd: int
    takes_direct_io: bool


@pytest.fixture(params=["a directory", "memfd"])
def opened(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Opened]:
    if request.param == "memfd":  # a file whose open file refuses O_DIRECT
        opened = Opened(os.memfd_create("no-direct-io"), takes_direct_io=False)
    else:
        path = tmp_path / "upload.bin"
        opened = Opened(os.open(path, os.O_RDWR | os.O_CREAT, 0o600), opens_direct(path))
    yield opened
    os.close(opened.fd)


def opens_direct(path: Path) -> bool:
    """Whether the file system of `path` opens it with `O_DIRECT`."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_DIRECT))
    except OSError:
        return False
    return True


def flags(fd: int) -> int:
    return fcntl.fcntl(fd, fcntl.F_GETFL)


@pytest.mark.parametrize(("size", "offset"), SIZES_AND_OFFSETS)
def test_bytes_received_into_its_room_land_at_their_offsets(
    opened: Opened, size: int, offset: int
) -> None:
    data = os.urandom(size)
    before = flags(opened.fd)
    pieces = iter([data[:1000], data[1000 : 1000 + BUFFER_BYTES], data[1000 + BUFFER_BYTES :]])
    with AlignedWriter(opened.fd, offset, aligned_buffer(), direct=True) as writer:
        for piece in pieces:
            while piece:  # as a socket's `recv_into` fills it: as much as there is room for
                room = writer.room()
                count = min(len(room), len(piece))
                room[:count] = piece[:count]
                writer.took(count)
                piece = piece[count:]
    assert os.pread(opened.fd, size, offset) == data
    assert flags(opened.fd) == before


@pytest.mark.parametrize(("size", "offset"), SIZES_AND_OFFSETS)
def test_bytes_put_land_at_their_offsets(opened: Opened, size: int, offset: int) -> None:
    data = os.urandom(size)
    os.pwrite(opened.fd, b"before", 0)  # kept: the writes start after it, or overwrite it
    with AlignedWriter(opened.fd, offset, aligned_buffer(), direct=True) as writer:
        writer.put_all([data[:3], memoryview(data)[3:]])
    assert os.pread(opened.fd, size, offset) == data
    if offset >= len(b"before"):
        assert os.pread(opened.fd, 6, 0) == b"before"


def test_aligned_writes_go_past_the_page_cache_where_the_file_system_allows(
    opened: Opened,
) -> None:
    before = flags(opened.fd)
    with AlignedWriter(opened.fd, 0, aligned_buffer(), direct=True) as writer:
        writer.put(os.urandom(BUFFER_BYTES))
        direct_while_writing = bool(flags(opened.fd) & os.O_DIRECT)
    assert direct_while_writing == opened.takes_direct_io
    assert flags(opened.fd) == before


def test_a_failed_block_writes_nothing_more_and_gives_the_flags_back(opened: Opened) -> None:
    before = flags(opened.fd)

    def cut_short() -> None:
        with AlignedWriter(opened.fd, 0, aligned_buffer(), direct=True) as writer:
            writer.put(b"never written")
            raise ConnectionResetError("the client went away")

    with pytest.raises(ConnectionResetError):
        cut_short()
    assert os.fstat(opened.fd).st_size == 0
    assert flags(opened.fd) == before


@pytest.mark.parametrize("way", ["chunk route", "upload port"])
@pytest.mark.parametrize(
    ("chunk_size", "direct_writes"),
    [(100_003, "true"), (TEST_CHUNK_SIZE, "false")],
    ids=["chunks no disk block starts at", "DIRECT_WRITES=false"],
)
async def test_uploads_are_whole_however_their_chunks_meet_the_disk_blocks(
    tmp_path: Path, way: str, chunk_size: int, direct_writes: str
) -> None:
    """A chunk size that is no multiple of a disk block (every chunk after the first starts
    mid-block: through the page cache), and a server told to write through the page cache:
    the file is made exactly, by the API's chunk route and by the upload port."""
    settings = {"CHUNK_SIZE": str(chunk_size), "DIRECT_WRITES": direct_writes}
    if way == "upload port":
        settings["UPLOAD_PORT"] = str(free_port())
    server = ServerProcess(tmp_path / "data", settings).start()
    try:
        async with await signed_in(server.url, "Ann") as ann:
            source = random_file(tmp_path / "movie.mkv", 5 * chunk_size + 321)
            info = await ann.upload_file(source, parallel=3)
            assert info.status == "complete"
            assert server.stored_bytes(info.file_id) == source.read_bytes()
    finally:
        server.stop()
