"""One very large file end to end: the server's memory stays flat and completion is O(1).

    .venv/bin/python bench/large_file.py [--size-gib 40] [--dir /big/disk]

Needs twice the size free on the disk (the source and the server's copy). Uploads with
durability on (8 MiB chunks, 4 streams) while sampling the server's RSS twice a second, reports
how long the last chunk took against the median (the last one also completes the file: its
content hash comes from the chunk digests, the file is not read again), then streams the whole
file back (discarding it) while sampling again.
"""

import argparse
import asyncio
import itertools
import os
import statistics
import time

from common import ServerProcess, add_source_options, rss_mib, source_file

from hypersend.client import HyperSendClient

GB = 1e9
MIB = 1024 * 1024


async def sample(server: ServerProcess, samples: list[float]) -> None:
    while True:
        samples.append(rss_mib(server))
        await asyncio.sleep(0.5)


def spread(samples: list[float]) -> str:
    quarter = max(1, len(samples) // 4)
    marks = [samples[min(i * quarter, len(samples) - 1)] for i in range(4)] + [samples[-1]]
    return " → ".join(f"{value:.0f}" for value in marks) + f" MiB (max {max(samples):.0f})"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    add_source_options(parser)
    parser.set_defaults(size_gib=40.0)
    args = parser.parse_args()
    async with source_file(args) as (scratch, source):
        size = source.stat().st_size
        server = ServerProcess(
            scratch / "data",
            {"DURABLE_UPLOADS": "true", "CHUNK_SIZE": str(8 * MIB), "MAX_FILE_SIZE": str(size)},
        ).start()
        try:
            async with HyperSendClient(server.url) as client:
                await client.register("big@example.test", "benchmark password", "Big")
                await client.login("big@example.test", "benchmark password")
                chunk_done: list[float] = []
                up_rss: list[float] = []
                sampler = asyncio.create_task(sample(server, up_rss))
                started = time.perf_counter()
                info = await client.upload_file(
                    source,
                    parallel=4,
                    state_dir=scratch,
                    progress=lambda done, total: chunk_done.append(time.perf_counter()),
                )
                uploaded = time.perf_counter() - started
                sampler.cancel()
                gaps = [b - a for a, b in itertools.pairwise(chunk_done[1:])]

                down_rss: list[float] = []
                sampler = asyncio.create_task(sample(server, down_rss))
                started, received = time.perf_counter(), 0
                async with client.api.http.stream(
                    "GET", f"/files/download/{info.file_id}", headers=client.api.auth_headers()
                ) as response:
                    async for piece in response.aiter_raw(MIB):
                        received += len(piece)
                downloaded = time.perf_counter() - started
                sampler.cancel()
        finally:
            server.stop()
    assert received == size, f"downloaded {received} of {size} bytes"
    print(f"file                     {size / 1024**3:.1f} GiB, {info.total_chunks} chunks")
    print(f"upload (durability on)   {size / uploaded / GB:5.2f} GB/s  in {uploaded:.0f} s")
    print(f"server RSS while up      {spread(up_rss)}")
    print(
        f"chunk completions        median gap {statistics.median(gaps) * 1000:.1f} ms,"
        f" last chunk (completes the file) {gaps[-1] * 1000:.1f} ms"
    )
    print(f"download (streamed)      {size / downloaded / GB:5.2f} GB/s  in {downloaded:.0f} s")
    print(f"server RSS while down    {spread(down_rss)}")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    asyncio.run(main())
