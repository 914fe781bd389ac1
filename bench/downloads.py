"""What a standalone download costs the server: CPU-seconds per GiB, by curl, against nginx.

    .venv/bin/python bench/downloads.py [--size-gib 1] [--rounds 3]

One file served three ways: by nginx with `sendfile` (the baseline); by HyperSend alone
(granian: its pathsend for a whole file, a stream through Python for a Range); and by
HyperSend with its download port (`DOWNLOAD_PORT`: the API answers 307, then `sendfile`). Each
sends the whole file and a Range `bytes=1-`, fetched by curl into a file (`-L` follows the
redirect). Prints GB/s and the server's CPU-seconds per GiB (user + system, all its
processes), medians of interleaved rounds, with ratios against nginx measured in the same
run. Needs Debian's nginx and curl. Not part of the test suite.
"""

import argparse
import asyncio
import os
import shutil
import statistics
from collections.abc import Callable
from pathlib import Path

from common import (
    ServerProcess,
    add_source_options,
    in_page_cache,
    server_cpu_seconds,
    source_file,
)
from tests.support.server import free_port
from transfer import CHUNK_SIZE, curl_rate, nginx_cpu_seconds, start_nginx

from hypersend.client import HyperSendClient

RANGES = {"whole": None, "Range 1-": "1-"}


async def shared_link(server: ServerProcess, source: Path) -> str:
    """A signed link to `source`, uploaded to `server` by a new account."""
    async with HyperSendClient(server.url) as client:
        await client.register("bench@example.test", "benchmark password", "Bench")
        await client.login("bench@example.test", "benchmark password")
        info = await client.upload_file(source, parallel=4)
        in_page_cache(server.disk_path(info.file_id))
        return await client.download_link(info.file_id)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    add_source_options(parser)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (medians)")
    parser.set_defaults(size_gib=1.0)
    args = parser.parse_args()
    cpu: dict[tuple[str, str], list[float]] = {}
    rate: dict[tuple[str, str], list[float]] = {}
    async with source_file(args) as (scratch, source):
        size = source.stat().st_size
        nginx = start_nginx(scratch)
        os.link(source, scratch / "nginx" / "www" / "data.bin")
        alone = ServerProcess(scratch / "alone", {"CHUNK_SIZE": str(CHUNK_SIZE)}).start()
        ported = ServerProcess(
            scratch / "ported",
            {"CHUNK_SIZE": str(CHUNK_SIZE), "DOWNLOAD_PORT": str(free_port())},
        ).start()
        try:
            senders: dict[str, tuple[str, Callable[[], float]]] = {
                "nginx sendfile": (
                    f"http://127.0.0.1:{nginx.ports[0]}/data.bin",
                    lambda: nginx_cpu_seconds(nginx),
                ),
                "HyperSend alone (granian)": (
                    await shared_link(alone, source),
                    lambda: server_cpu_seconds(alone),
                ),
                "HyperSend, download port": (
                    await shared_link(ported, source),
                    lambda: server_cpu_seconds(ported),
                ),
            }
            for _ in range(args.rounds):
                for name, (url, cpu_seconds) in senders.items():
                    for kind, byte_range in RANGES.items():
                        before = cpu_seconds()
                        got = await curl_rate(url, scratch, size, byte_range=byte_range)
                        assert got is not None, "curl is needed"
                        spent = (cpu_seconds() - before) / (size / 1024**3)
                        cpu.setdefault((name, kind), []).append(spent)
                        rate.setdefault((name, kind), []).append(got)
                        print(f"{name:<28} {kind:<9} {got:5.2f} GB/s {spent:5.3f} CPU-s/GiB")
        finally:
            alone.stop()
            ported.stop()
            nginx.stop()
            shutil.rmtree(scratch / "nginx", ignore_errors=True)
    median_cpu = {key: statistics.median(values) for key, values in cpu.items()}
    median_rate = {key: statistics.median(values) for key, values in rate.items()}
    print(f"\nmedians of {args.rounds} rounds, {args.size_gib:g} GiB by curl into a file")
    targets = {"whole": 0.15, "Range 1-": 0.30}
    for kind in RANGES:
        baseline = median_cpu[("nginx sendfile", kind)]
        for name in ("nginx sendfile", "HyperSend alone (granian)", "HyperSend, download port"):
            spent, got = median_cpu[(name, kind)], median_rate[(name, kind)]
            print(
                f"{kind:<9} {name:<28} {got:5.2f} GB/s  {spent:5.3f} CPU-s/GiB"
                f" = {spent / baseline:5.2f}x nginx  (target {targets[kind]})"
            )


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    asyncio.run(main())
