"""What the benchmarks share: a real server, its peak memory, and a timer."""

import argparse
import asyncio
import os
import sys
import tempfile
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
    "peak_rss_mib",
    "rss_mib",
    "settle",
    "source_file",
    "timed",
]


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
