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
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.files import random_file
from tests.support.server import ServerProcess

__all__ = [
    "ServerProcess",
    "add_source_options",
    "page_reporting_paused",
    "peak_rss_mib",
    "rss_mib",
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
    parser.add_argument(
        "--keep-page-reporting",
        action="store_true",
        help="measure with the VM's free page reporting left on (see page_reporting_paused)",
    )


@asynccontextmanager
async def source_file(args: argparse.Namespace) -> AsyncIterator[tuple[Path, Path]]:
    """A scratch folder and, in it, `--size-gib` of random bytes; both gone afterwards."""
    with tempfile.TemporaryDirectory(dir=args.dir) as scratch_name:
        scratch = Path(scratch_name)
        size = int(args.size_gib * 1024**3)
        print(f"making {size / 1024**3:.1f} GiB of random data ...", flush=True)
        with page_reporting_paused(keep=args.keep_page_reporting):
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

    Why: these VMs hand freed memory back to the host (virtio free page reporting, see
    /sys/module/page_reporting), and touching it again costs ~2.5 s of system time per GiB
    (measured: 14 GiB in 36 s). Without this, whichever step happened to follow a large delete
    ran several times faster than the others, and the "disk" seemed to swing fivefold.
    """
    os.sync()
    prime = scratch / "prime.bin"
    with prime.open("wb") as out:
        for _ in range(max(1, size // len(PRIME_PIECE))):
            out.write(PRIME_PIECE)
    prime.unlink()  # dirty and deleted: never written to the disk


PAGE_REPORTING_ORDER = Path("/sys/module/page_reporting/parameters/page_reporting_order")
NOTHING_REPORTED = "11"  # above the largest page order (10): no freed block qualifies


@contextmanager
def page_reporting_paused(*, keep: bool = False) -> Iterator[None]:
    """Pause the VM's free page reporting for the run, and put it back after.

    These VMs report freed memory to the host (virtio free page reporting) as soon as 1 GiB
    waits, and touching reported memory again costs ~2 s of system time per GiB. `settle()`
    hands each step memory that was just touched, but reporting takes it back while the step
    runs: measured here, writing 2 GiB into the page cache took 0.5 s right after `settle()`
    and 4.3-4.6 s ten seconds later. So a step that runs longer than a second or two paid for
    the VM's memory on top of its own work, and every ratio was skewed against the slower
    side. With reporting paused (root only) memory costs the same in every step, as it does on
    a machine that is not a VM of this kind.
    """
    if keep or not PAGE_REPORTING_ORDER.exists():
        yield
        return
    original = PAGE_REPORTING_ORDER.read_text().strip()
    try:
        PAGE_REPORTING_ORDER.write_text(NOTHING_REPORTED)
    except OSError:
        print("VM free page reporting is on and cannot be paused (needs root): steps longer")
        print("than a second or two pay ~2 s per GiB of page cache, which skews the ratios.")
        yield
        return
    print(f"VM free page reporting paused for this run (order {original} -> {NOTHING_REPORTED})")
    try:
        yield
    finally:
        PAGE_REPORTING_ORDER.write_text(original)


def tcp_copy(source: Path, target: Path, *, sha256: bool = False) -> float:
    """GB/s of copying `source` to `target` over one plain loopback TCP connection.

    Without `sha256`: `socket.sendfile` on one end, `recv_into` and `write` on the other. With
    it, each end also computes the file's SHA-256 (read, hash, send; receive, hash, write), the
    least that any transfer verified end to end must do: the floor for HyperSend's transfers,
    whose both ends hash every byte.
    """
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    digests: list[str] = []

    def receive() -> None:
        connection, _ = listener.accept()
        buffer = memoryview(bytearray(PIECE))
        digest = hashlib.sha256()
        with connection, target.open("wb") as out:
            while count := connection.recv_into(buffer):
                if sha256:
                    digest.update(buffer[:count])
                out.write(buffer[:count])
        digests.append(digest.hexdigest())

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
    return source.stat().st_size / elapsed[0] / GB
