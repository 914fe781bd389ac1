"""Upload and download throughput of HyperSend against nginx and the disk, in one run.

    .venv/bin/python bench/transfer.py [--size-gib 2] [--parallel 4]

Needs Debian's nginx (`apt-get install nginx-light`). Prints GB/s and ratios against nginx's
DAV PUT and sendfile download of the same bytes, and against `dd conv=fdatasync`; and the
server's peak RSS. Not part of the test suite.
"""

import argparse
import asyncio
import os
import shutil
import subprocess
from pathlib import Path

import httpx
from common import ServerProcess, add_source_options, peak_rss_mib, source_file, timed
from tests.support.nginx import NginxProcess
from tests.support.server import free_port

from hypersend.client import HyperSendClient

GB = 1e9
PIECE = 1024 * 1024


def disk_synced_write(source: Path, scratch: Path) -> float:
    target = scratch / "dd.out"
    with timed() as elapsed:
        subprocess.run(
            ["dd", f"if={source}", f"of={target}", "bs=8M", "conv=fdatasync"],
            check=True,
            capture_output=True,
        )
    target.unlink()
    return source.stat().st_size / elapsed[0] / GB


def start_nginx(scratch: Path) -> NginxProcess:
    """nginx serving `scratch/nginx/www`, taking DAV PUTs into it."""
    root = scratch / "nginx"
    (root / "www").mkdir(parents=True)
    (root / "www").chmod(0o777)
    port = free_port()
    site = f"""
    sendfile on;
    server {{
        listen 127.0.0.1:{port};
        root {root}/www;
        client_max_body_size 0;
        client_body_buffer_size 1m;
        dav_methods PUT;
        create_full_put_path on;
    }}
    """
    return NginxProcess(root, site, [port]).start()


async def _file_pieces(path: Path):  # type: ignore[no-untyped-def]
    with open(path, "rb") as source:
        while piece := await asyncio.to_thread(source.read, PIECE):
            yield piece


async def nginx_rates(nginx: NginxProcess, source: Path, scratch: Path) -> tuple[float, float]:
    size = source.stat().st_size
    base_url = f"http://127.0.0.1:{nginx.ports[0]}"
    async with httpx.AsyncClient(base_url=base_url, timeout=None) as http:
        with timed() as up:
            reply = await http.put(
                "/data.bin", content=_file_pieces(source), headers={"Content-Length": str(size)}
            )
            reply.raise_for_status()
        target = scratch / "nginx-copy.bin"
        with timed() as down, open(target, "wb") as out:
            async with http.stream("GET", "/data.bin") as reply:
                async for piece in reply.aiter_bytes(PIECE):
                    await asyncio.to_thread(out.write, piece)
        target.unlink()
    return size / up[0] / GB, size / down[0] / GB


async def hypersend_rates(
    source: Path, scratch: Path, *, durable: bool, parallel: int
) -> tuple[float, float, float]:
    server = ServerProcess(
        scratch / f"hs-{durable}",
        {"DURABLE_UPLOADS": str(durable).lower(), "CHUNK_SIZE": str(8 * 1024 * 1024)},
    ).start()
    try:
        async with HyperSendClient(server.url) as client:
            await client.register("bench@example.test", "benchmark password", "Bench")
            await client.login("bench@example.test", "benchmark password")
            with timed() as up:
                info = await client.upload_file(source, parallel=parallel, state_dir=scratch)
            target = scratch / "hs-copy.bin"
            with timed() as down:
                await client.download_file(info.file_id, target)
            target.unlink()
        size = source.stat().st_size
        return size / up[0] / GB, size / down[0] / GB, peak_rss_mib(server)
    finally:
        server.stop()
        shutil.rmtree(scratch / f"hs-{durable}", ignore_errors=True)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    add_source_options(parser)
    parser.add_argument("--parallel", type=int, default=4)
    args = parser.parse_args()
    async with source_file(args) as (scratch, source):
        disk = disk_synced_write(source, scratch)
        nginx = start_nginx(scratch)
        try:
            nginx_up, nginx_down = await nginx_rates(nginx, source, scratch)
        finally:
            nginx.stop()
        fast_up, down, rss_fast = await hypersend_rates(
            source, scratch, durable=False, parallel=args.parallel
        )
        durable_up, _, rss_durable = await hypersend_rates(
            source, scratch, durable=True, parallel=args.parallel
        )
    print(f"disk synced write (dd conv=fdatasync)  {disk:5.2f} GB/s")
    print(f"nginx PUT                               {nginx_up:5.2f} GB/s")
    print(f"nginx GET (sendfile)                    {nginx_down:5.2f} GB/s")
    print(
        f"HyperSend upload, durability off        {fast_up:5.2f} GB/s"
        f"  = {fast_up / nginx_up:4.2f}x nginx PUT (target 0.80)"
    )
    print(
        f"HyperSend upload, durability on         {durable_up:5.2f} GB/s"
        f"  = {durable_up / disk:4.2f}x synced disk (target 0.80)"
    )
    print(
        f"HyperSend download (verified)           {down:5.2f} GB/s"
        f"  = {down / nginx_down:4.2f}x nginx GET (target 0.85)"
    )
    peak = max(rss_fast, rss_durable)
    print(f"HyperSend server peak RSS               {peak:5.0f} MiB (target <150)")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    asyncio.run(main())
