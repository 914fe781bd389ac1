"""What the benchmarks share: a real server, its peak memory, and a timer."""

import argparse
import asyncio
import hashlib
import os
import socket
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.files import random_file
from tests.support.server import ServerProcess

from hypersend.client import HyperSendClient

__all__ = [
    "RoundTrip",
    "ServerProcess",
    "add_source_options",
    "peak_rss_mib",
    "round_trip",
    "rss_mib",
    "server_cpu_seconds",
    "settle",
    "source_file",
    "tcp_copy",
    "timed",
]

GB = 1e9
PIECE = 1024 * 1024


def add_source_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--size-gib", type=float, default=2.0)
    parser.add_argument("--dir", type=Path, default=None, help="scratch folder (default: /tmp)")


@asynccontextmanager
async def source_file(args: argparse.Namespace) -> AsyncIterator[tuple[Path, Path]]:
    """A scratch folder and, in it, `--size-gib` of random bytes; both gone afterwards."""
    with tempfile.TemporaryDirectory(dir=args.dir) as scratch_name:
        scratch = Path(scratch_name)
        size = int(args.size_gib * 1024**3)
        print(f"making {size / 1024**3:.1f} GiB of random data ...", flush=True)
        yield scratch, await asyncio.to_thread(random_file, scratch / "source.bin", size)


def _memory_kib(server: ServerProcess, field: str) -> list[int]:
    """`field` of /proc/PID/status (e.g. VmRSS, VmHWM) for each of the server's processes."""
    values = []
    for pid in server.process_stats():
        try:
            text = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
        if field in fields:
            values.append(int(fields[field].split()[0]))
    return values


def peak_rss_mib(server: ServerProcess) -> float:
    """The largest peak RSS (VmHWM) among the server's processes, in MiB."""
    return max(_memory_kib(server, "VmHWM"), default=0) / 1024


def server_cpu_seconds(server: ServerProcess) -> float:
    """User plus system CPU time of all the server's processes so far. CPU-seconds per GiB
    is the measure that these VMs' memory reporting skews least (it adds system time to
    whichever side touches fresh memory, but not wall time to the other)."""
    ticks = sum(int(fields[11]) + int(fields[12]) for fields in server.process_stats().values())
    return ticks / os.sysconf("SC_CLK_TCK")


def rss_mib(server: ServerProcess) -> float:
    """The server's resident memory now, all its processes together, in MiB."""
    return sum(_memory_kib(server, "VmRSS")) / 1024


@contextmanager
def timed() -> Iterator[list[float]]:
    """`with timed() as elapsed:` ... then `elapsed[0]` is the seconds taken."""
    result: list[float] = []
    started = time.perf_counter()
    yield result
    result.append(time.perf_counter() - started)


PRIME_PIECE = bytes(8 * 1024 * 1024)


def settle(scratch: Path, size: int) -> None:
    """Put a timed step that writes `size` bytes on the same footing as the others: the disk
    flushed (`sync`), then `size` bytes of page cache used and freed just before it, so the
    step's own page cache comes from memory the host still backs.

    Why: these VMs hand freed memory back to the host (virtio free page reporting), and
    touching it again costs ~2.5 s of system time per GiB (measured: 14 GiB in 36 s). Without
    this, whichever step happened to follow a large delete ran several times faster than the
    others, and the "disk" seemed to swing fivefold. The benchmarks change no system setting
    to avoid it: they report the server's CPU-seconds per GiB beside each throughput.
    """
    os.sync()
    prime = scratch / "prime.bin"
    with prime.open("wb") as out:
        for _ in range(max(1, size // len(PRIME_PIECE))):
            out.write(PRIME_PIECE)
    prime.unlink()  # dirty and deleted: never written to the disk


def in_page_cache(path: Path) -> None:
    """Read `path` once, so that a timed download of it starts where nginx's baseline file
    starts: in the page cache. HyperSend writes uploads past it (`DIRECT_WRITES`), so the first
    download of a file just uploaded reads the disk, which would measure the disk, not the
    sender."""
    buffer = bytearray(PIECE)
    with path.open("rb") as data:
        while data.readinto(buffer):
            pass


def tcp_copy(source: Path, target: Path, *, sha256: bool = False) -> tuple[float, float]:
    """GB/s of copying `source` to `target` over one plain loopback TCP connection, and the
    CPU-seconds per GiB its receiving end spent (what a server taking the bytes must spend).

    Without `sha256`: `socket.sendfile` on one end, `recv_into` and `write` on the other. With
    it, each end also computes the file's SHA-256 (read, hash, send; receive, hash, write), the
    least that any transfer verified end to end must do: the floor for HyperSend's transfers,
    whose both ends hash every byte.
    """
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    digests: list[str] = []
    receiving_cpu: list[float] = []

    def receive() -> None:
        connection, _ = listener.accept()
        started = time.thread_time()
        buffer = memoryview(bytearray(PIECE))
        digest = hashlib.sha256()
        with connection, target.open("wb") as out:
            while count := connection.recv_into(buffer):
                if sha256:
                    digest.update(buffer[:count])
                out.write(buffer[:count])
        digests.append(digest.hexdigest())
        receiving_cpu.append(time.thread_time() - started)

    def send(connection: socket.socket) -> str:
        digest = hashlib.sha256()
        with source.open("rb") as data:
            if not sha256:
                connection.sendfile(data)
                return digest.hexdigest()
            buffer = memoryview(bytearray(PIECE))
            while count := data.readinto(buffer):
                digest.update(buffer[:count])
                connection.sendall(buffer[:count])
        return digest.hexdigest()

    receiver = threading.Thread(target=receive)
    with timed() as elapsed:
        receiver.start()
        with socket.create_connection(("127.0.0.1", port)) as connection:
            sent = send(connection)
        receiver.join()
    listener.close()
    target.unlink()
    assert digests == [sent], "the copy's two ends disagree"
    size = source.stat().st_size
    return size / elapsed[0] / GB, receiving_cpu[0] / (size / 1024**3)


@dataclass(frozen=True)
class RoundTrip:
    """One upload and verified download through `hypersend.client`: GB/s each way and the
    server's CPU-seconds per GiB for each."""

    file_id: str
    up: float
    down: float
    up_cpu: float
    down_cpu: float


async def round_trip(
    client: HyperSendClient, server: ServerProcess, source: Path, scratch: Path, *, parallel: int
) -> RoundTrip:
    """Upload `source` and download it again (each step settled first)."""
    size = source.stat().st_size
    gib = size / 1024**3
    settle(scratch, size)
    cpu = server_cpu_seconds(server)
    with timed() as up:
        info = await client.upload_file(source, parallel=parallel, state_dir=scratch)
    up_cpu = (server_cpu_seconds(server) - cpu) / gib
    target = scratch / "round-trip-copy.bin"
    in_page_cache(server.disk_path(info.file_id))
    settle(scratch, size)
    cpu = server_cpu_seconds(server)
    with timed() as down:
        await client.download_file(info.file_id, target)
    down_cpu = (server_cpu_seconds(server) - cpu) / gib
    target.unlink()
    return RoundTrip(info.file_id, size / up[0] / GB, size / down[0] / GB, up_cpu, down_cpu)
