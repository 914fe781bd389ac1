"""What taking an upload costs the server: CPU-seconds per GiB, the API's chunk route against
the upload port, in one run.

    .venv/bin/python bench/uploads.py [--size-gib 1] [--rounds 3] [--parallel 4]

One file uploaded by `hypersend.client` (4 parallel streams of 8 MiB chunks, each with its
`X-Chunk-SHA256`), durability off and on: through granian's chunk route (the baseline), and
through the upload port (`UPLOAD_PORT`: one thread per chunk receives, hashes and writes);
each with its chunks written through the page cache and past it (`DIRECT_WRITES`, O_DIRECT).
Beside them, the receiving end of the floor (one thread: `recv_into` a reused 1 MiB buffer,
SHA-256, `write`; no HTTP, no records), measured in the same round. Prints GB/s and the
server's CPU-seconds per GiB (user + system, all its processes), medians of interleaved
rounds, with ratios against the chunk route writing through the page cache. Not part of the
test suite.
"""

import argparse
import asyncio
import itertools
import shutil
import statistics
from pathlib import Path

from common import (
    GB,
    ServerProcess,
    add_source_options,
    server_cpu_seconds,
    settle,
    source_file,
    tcp_copy,
    timed,
)
from tests.support.server import free_port
from transfer import CHUNK_SIZE

from hypersend.client import HyperSendClient

WAYS = ("chunk route", "upload port")
WRITES = {"page cache": False, "direct": True}  # DIRECT_WRITES
BASELINE = "chunk route, page cache"


async def upload_rate(
    source: Path, scratch: Path, *, way: str, durable: bool, direct: bool, parallel: int
) -> tuple[float, float]:
    """GB/s and server CPU-seconds per GiB of one upload of `source`."""
    settings = {
        "DURABLE_UPLOADS": str(durable).lower(),
        "DIRECT_WRITES": str(direct).lower(),
        "CHUNK_SIZE": str(CHUNK_SIZE),
    }
    if way == "upload port":
        settings["UPLOAD_PORT"] = str(free_port())
    data_root = scratch / "hs-uploads"
    server = ServerProcess(data_root, settings).start()
    size = source.stat().st_size
    try:
        async with HyperSendClient(server.url) as client:
            await client.register("bench@example.test", "benchmark password", "Bench")
            await client.login("bench@example.test", "benchmark password")
            settle(scratch, size)
            cpu = server_cpu_seconds(server)
            with timed() as took:
                info = await client.upload_file(source, parallel=parallel, state_dir=scratch)
            assert info.status == "complete"
            return size / took[0] / GB, (server_cpu_seconds(server) - cpu) / (size / 1024**3)
    finally:
        server.stop()
        shutil.rmtree(data_root, ignore_errors=True)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    add_source_options(parser)
    parser.add_argument("--parallel", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (medians)")
    args = parser.parse_args()
    runs: dict[str, list[float]] = {}
    async with source_file(args) as (scratch, source):
        for _ in range(args.rounds):
            settle(scratch, source.stat().st_size)
            _, floor_cpu = tcp_copy(source, scratch / "tcp-copy.bin", sha256=True)
            (scratch / "tcp-copy.bin").unlink(missing_ok=True)
            runs.setdefault("floor cpu", []).append(floor_cpu)
            for durable in (False, True):
                for way in WAYS:
                    for writes, direct in WRITES.items():
                        rate, cpu = await upload_rate(
                            source,
                            scratch,
                            way=way,
                            durable=durable,
                            direct=direct,
                            parallel=args.parallel,
                        )
                        name = f"{way}, {writes} durable={durable}"
                        runs.setdefault(name, []).append(rate)
                        runs.setdefault(f"{name} cpu", []).append(cpu)
            print("round:", ", ".join(f"{k} {v[-1]:.2f}" for k, v in runs.items()), flush=True)
    median = {name: statistics.median(values) for name, values in runs.items()}
    print(f"medians of {args.rounds} rounds, {args.size_gib} GiB, {args.parallel} streams")
    print(
        f"floor's receiving end (recv_into + SHA-256 + write)  {median['floor cpu']:.2f} CPU-s/GiB"
    )
    for durable in (False, True):
        base = f"{BASELINE} durable={durable}"
        for way, writes in itertools.product(WAYS, WRITES):
            name = f"{way}, {writes} durable={durable}"
            print(
                f"{way + ', ' + writes:24} durability {'on ' if durable else 'off'}"
                f"  {median[name]:5.2f} GB/s ({median[name] / median[base]:4.2f}x)"
                f"  server {median[name + ' cpu']:5.2f} CPU-s/GiB"
                f" ({median[name + ' cpu'] / median[base + ' cpu']:4.2f}x; target 1.5)"
            )


if __name__ == "__main__":
    asyncio.run(main())
