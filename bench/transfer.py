"""Upload and download throughput of HyperSend against nginx and the disk, in one run.

    .venv/bin/python bench/transfer.py [--size-gib 2] [--parallel 4] [--rounds 3]

Needs Debian's nginx (`apt-get install nginx-light`). Prints GB/s and ratios against nginx's
DAV PUT and sendfile download of the same bytes (the download read by the same client, hashing
as it does to verify), against `dd conv=fdatasync`, and against the floor of any verified
transfer (a loopback TCP copy with SHA-256 at both ends); HyperSend alone and behind nginx
(downloads by X-Accel-Redirect) and with its download port (`DOWNLOAD_PORT`), with the
CPU-seconds per GiB the server (and nginx) spend;
and the server's peak RSS. Medians of interleaved rounds. Not part of the test suite.
"""

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from common import (
    GB,
    ServerProcess,
    add_source_options,
    in_page_cache,
    peak_rss_mib,
    round_trip,
    server_cpu_seconds,
    settle,
    source_file,
    tcp_copy,
    timed,
)
from tests.support.nginx import NginxProcess
from tests.support.server import free_port

from hypersend.client import HyperSendClient, Tokens
from hypersend.client.http import ApiSession
from hypersend.client.raw_http import RawConnection
from hypersend.client.transfers import write_and_hash
from hypersend.content_hash import ContentHasher

CHUNK_SIZE = 8 * 1024 * 1024


def disk_synced_write(source: Path, scratch: Path) -> float:
    target = scratch / "dd.out"
    settle(scratch, source.stat().st_size)
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


def start_front(scratch: Path, server: ServerProcess, port: int) -> NginxProcess:
    """nginx in front of `server` as deploy/nginx.conf puts it (plain HTTP): `/api/` proxied
    with buffering off both ways, and downloads' bytes sent by nginx itself from the internal
    location over the server's files directory once the server has said yes
    (X-Accel-Redirect)."""
    root = scratch / "front"
    site = f"""
    sendfile on;
    upstream hypersend_api {{ server 127.0.0.1:{server.port}; keepalive 16; }}
    server {{
        listen 127.0.0.1:{port};
        client_max_body_size 0;
        proxy_request_buffering off;
        proxy_buffering off;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        location /_hypersend_files/ {{
            internal;
            alias {server.data_root / "files"}/;
            etag off;
            add_header ETag $upstream_http_etag;
        }}
        location /api/ {{ proxy_pass http://hypersend_api/; }}
    }}
    """
    front = NginxProcess(root, site, [port])
    front.check()
    return front.start()


def nginx_cpu_seconds(nginx: NginxProcess) -> float:
    """User plus system CPU time of nginx's master and workers so far."""
    assert nginx.process is not None
    master, ticks = nginx.process.pid, 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(stat.parent.name) == master or int(fields[1]) == master:  # [1]: parent PID
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


async def behind_nginx_rates(source: Path, scratch: Path, *, parallel: int) -> dict[str, float]:
    """Upload and verified download through nginx in front of HyperSend (downloads by
    X-Accel-Redirect), and a download by curl through a signed link: GB/s, and the CPU the
    app and nginx each spend per GiB."""
    port = free_port()
    server = ServerProcess(
        scratch / "hs-front",
        {
            "DURABLE_UPLOADS": "false",
            "CHUNK_SIZE": str(CHUNK_SIZE),
            "ACCEL_REDIRECT_PREFIX": "/_hypersend_files/",
            "PUBLIC_URL": f"http://127.0.0.1:{port}/api",
        },
    ).start()
    front = start_front(scratch, server, port)
    gib = source.stat().st_size / 1024**3
    try:
        async with HyperSendClient(f"http://127.0.0.1:{port}/api") as client:
            await client.register("bench@example.test", "benchmark password", "Bench")
            await client.login("bench@example.test", "benchmark password")
            nginx_cpu = nginx_cpu_seconds(front)
            trip = await round_trip(client, server, source, scratch, parallel=parallel)
            nginx_trip_cpu = (nginx_cpu_seconds(front) - nginx_cpu) / gib
            link = await client.download_link(trip.file_id)
            app_cpu, nginx_cpu = server_cpu_seconds(server), nginx_cpu_seconds(front)
            by_curl = await curl_rate(link, scratch, source.stat().st_size)
            rates = {
                "front up": trip.up,
                "front down": trip.down,
                "front down app cpu": trip.down_cpu,
                "front up app cpu": trip.up_cpu,
                "front up+down nginx cpu": nginx_trip_cpu,
            }
            if by_curl is not None:
                rates["front down curl"] = by_curl
                rates["front down curl app cpu"] = (server_cpu_seconds(server) - app_cpu) / gib
                rates["front down curl nginx cpu"] = (nginx_cpu_seconds(front) - nginx_cpu) / gib
        return rates
    finally:
        front.stop()
        server.stop()
        shutil.rmtree(scratch / "hs-front", ignore_errors=True)
        shutil.rmtree(scratch / "front", ignore_errors=True)


async def download_port_rates(source: Path, scratch: Path) -> dict[str, float]:
    """HyperSend standalone with its download port (`DOWNLOAD_PORT`: the API redirects, a
    listener of its own sends with sendfile): a verified download through `hypersend.client`
    and one by curl through a signed link, GB/s and the server's CPU per GiB."""
    server = ServerProcess(
        scratch / "hs-port",
        {
            "DURABLE_UPLOADS": "false",
            "CHUNK_SIZE": str(CHUNK_SIZE),
            "DOWNLOAD_PORT": str(free_port()),
        },
    ).start()
    size = source.stat().st_size
    gib = size / 1024**3
    try:
        async with HyperSendClient(server.url) as client:
            await client.register("bench@example.test", "benchmark password", "Bench")
            await client.login("bench@example.test", "benchmark password")
            info = await client.upload_file(source, parallel=4, state_dir=scratch)
            target = scratch / "port-copy.bin"
            in_page_cache(server.disk_path(info.file_id))
            settle(scratch, size)
            cpu = server_cpu_seconds(server)
            with timed() as down:
                await client.download_file(info.file_id, target)
            rates = {"port down": size / down[0] / GB}
            rates["port down cpu"] = (server_cpu_seconds(server) - cpu) / gib
            target.unlink()
            link = await client.download_link(info.file_id)
            cpu = server_cpu_seconds(server)
            if (by_curl := await curl_rate(link, scratch, size)) is not None:
                rates["port down curl"] = by_curl
                rates["port down curl cpu"] = (server_cpu_seconds(server) - cpu) / gib
        return rates
    finally:
        server.stop()
        shutil.rmtree(scratch / "hs-port", ignore_errors=True)


async def nginx_rates(nginx: NginxProcess, source: Path, scratch: Path) -> dict[str, float]:
    """GB/s of nginx taking the whole file by PUT and serving it by GET, on the client's own
    connections (HyperSend's chunk and download paths, without chunks or protocol): the GET
    once only writing the file, once also hashing it as HyperSend's client does to verify a
    download (the same work on the client's side, so only the servers differ); and the GET by
    curl when it is installed (a client that is not ours)."""
    size = source.stat().st_size
    base_url = f"http://127.0.0.1:{nginx.ports[0]}"
    api = ApiSession(base_url, tokens=Tokens("baseline", "baseline", 0))
    target = scratch / "nginx-copy.bin"
    rates: dict[str, float] = {}
    try:
        connection = RawConnection(api)
        settle(scratch, size)
        cpu = nginx_cpu_seconds(nginx)
        with timed() as up, open(source, "rb") as file:
            await connection.put("/data.bin", {}, file, 0, size, {})
        await connection.close()
        rates["nginx up"] = size / up[0] / GB
        rates["nginx up cpu"] = (nginx_cpu_seconds(nginx) - cpu) / (size / 1024**3)
        for name, verify in (("nginx down", False), ("nginx down hashed", True)):
            settle(scratch, size)
            with timed() as down, open(target, "wb") as out:
                await fetch(api, "/data.bin", out, verify=verify)
            rates[name] = size / down[0] / GB
            target.unlink()
    finally:
        await api.http.aclose()
        target.unlink(missing_ok=True)
    by_curl = await curl_rate(f"{base_url}/data.bin", scratch, size)
    if by_curl is not None:
        rates["nginx down curl"] = by_curl
    return rates


async def fetch(api: ApiSession, path: str, out: BinaryIO, *, verify: bool) -> None:
    """GET `path` into `out`; with `verify`, written and hashed as `hypersend.client` does."""
    hasher = ContentHasher(CHUNK_SIZE)
    async with RawConnection(api).get(path, {}) as reply:
        async for piece in reply.pieces():
            if verify:
                await write_and_hash(out, hasher, piece)
            else:
                await asyncio.to_thread(out.write, piece)


async def curl_rate(
    url: str, scratch: Path, size: int, *, byte_range: str | None = None
) -> float | None:
    """GB/s of curl fetching `url` (following redirects), or its `byte_range` (`1-`), into a
    file (None without curl): a client that is not ours, the same for nginx and HyperSend."""
    curl = shutil.which("curl")
    if curl is None:
        return None
    target = scratch / "curl-copy.bin"
    command = [curl, "-sSfL", "-o", str(target), url]
    if byte_range is not None:
        command += ["-r", byte_range]
    settle(scratch, size)
    try:
        with timed() as elapsed:
            await asyncio.to_thread(subprocess.run, command, check=True)
        fetched = target.stat().st_size
    finally:
        target.unlink(missing_ok=True)
    return fetched / elapsed[0] / GB


async def tus_rate(
    client: HyperSendClient, server: ServerProcess, source: Path, scratch: Path
) -> tuple[float, float] | None:
    """GB/s and server CPU-s/GiB of a tus upload by curl, a client that is not ours: one PATCH
    of the whole file, as tus-js-client sends by default (None without curl)."""
    curl = shutil.which("curl")
    if curl is None or client.tokens is None:
        return None
    size = source.stat().st_size
    bearer = f"Authorization: Bearer {client.tokens.access_token}"
    created = await client.api.http.post(
        "/files/tus/",
        headers={
            "Authorization": bearer.partition(": ")[2],
            "Tus-Resumable": "1.0.0",
            "Upload-Length": str(size),
        },
    )
    created.raise_for_status()
    settle(scratch, size)
    cpu = server_cpu_seconds(server)
    headers = [
        "Tus-Resumable: 1.0.0",
        "Upload-Offset: 0",
        bearer,
        "Expect:",
        "Content-Type: application/offset+octet-stream",
    ]
    with timed() as elapsed:
        await asyncio.to_thread(
            subprocess.run,
            [
                curl,
                "-sSf",
                "-X",
                "PATCH",
                "-T",
                str(source),
                *(arg for header in headers for arg in ("-H", header)),
                created.headers["location"],
            ],
            check=True,
        )
    return size / elapsed[0] / GB, (server_cpu_seconds(server) - cpu) / (size / 1024**3)


@dataclass(frozen=True)
class Rates:
    """GB/s of each HyperSend path, the server's CPU-seconds per GiB on it, and peak RSS."""

    up: float
    down: float
    down_curl: float | None
    up_cpu: float
    down_cpu: float
    down_curl_cpu: float | None
    tus_up: tuple[float, float] | None
    rss: float


async def hypersend_rates(source: Path, scratch: Path, *, durable: bool, parallel: int) -> Rates:
    """Upload and verified download through `hypersend.client`, the download by curl through
    a signed link, the server's CPU for each, and its peak RSS."""
    server = ServerProcess(
        scratch / f"hs-{durable}",
        {"DURABLE_UPLOADS": str(durable).lower(), "CHUNK_SIZE": str(CHUNK_SIZE)},
    ).start()
    try:
        async with HyperSendClient(server.url) as client:
            await client.register("bench@example.test", "benchmark password", "Bench")
            await client.login("bench@example.test", "benchmark password")
            size = source.stat().st_size
            trip = await round_trip(client, server, source, scratch, parallel=parallel)
            link = await client.download_link(trip.file_id)
            cpu = server_cpu_seconds(server)
            by_curl = await curl_rate(link, scratch, size)
            curl_cpu = (server_cpu_seconds(server) - cpu) / (size / 1024**3) if by_curl else None
            tus_up = await tus_rate(client, server, source, scratch)
        return Rates(
            up=trip.up,
            down=trip.down,
            down_curl=by_curl,
            up_cpu=trip.up_cpu,
            down_cpu=trip.down_cpu,
            down_curl_cpu=curl_cpu,
            tus_up=tus_up,
            rss=peak_rss_mib(server),
        )
    finally:
        server.stop()
        shutil.rmtree(scratch / f"hs-{durable}", ignore_errors=True)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    add_source_options(parser)
    parser.add_argument("--parallel", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (medians)")
    args = parser.parse_args()
    runs: dict[str, list[float]] = {}

    def record(name: str, value: float) -> None:
        runs.setdefault(name, []).append(value)

    async with source_file(args) as (scratch, source):
        for _ in range(args.rounds):
            # Each timed step starts settled (`settle`): the disk flushed, memory primed.
            record("disk", disk_synced_write(source, scratch))
            settle(scratch, source.stat().st_size)
            floor, floor_receiving_cpu = tcp_copy(source, scratch / "tcp-copy.bin", sha256=True)
            record("floor", floor)
            record("floor receiving cpu", floor_receiving_cpu)
            nginx = start_nginx(scratch)
            try:
                for name, rate in (await nginx_rates(nginx, source, scratch)).items():
                    record(name, rate)
            finally:
                nginx.stop()
                shutil.rmtree(scratch / "nginx", ignore_errors=True)
            for durable in (False, True):
                rates = await hypersend_rates(
                    source, scratch, durable=durable, parallel=args.parallel
                )
                record(f"up durable={durable}", rates.up)
                record(f"up durable={durable} cpu", rates.up_cpu)
                record("rss", rates.rss)
                if rates.tus_up is not None:
                    record(f"tus up durable={durable}", rates.tus_up[0])
                    record(f"tus up durable={durable} cpu", rates.tus_up[1])
                if not durable:
                    record("down", rates.down)
                    record("down cpu", rates.down_cpu)
                    if rates.down_curl is not None and rates.down_curl_cpu is not None:
                        record("down curl", rates.down_curl)
                        record("down curl cpu", rates.down_curl_cpu)
            for name, rate in (
                await behind_nginx_rates(source, scratch, parallel=args.parallel)
            ).items():
                record(name, rate)
            for name, rate in (await download_port_rates(source, scratch)).items():
                record(name, rate)
            print("round:", ", ".join(f"{k} {v[-1]:.2f}" for k, v in runs.items()), flush=True)
    median = {name: statistics.median(values) for name, values in runs.items()}
    fast_up, durable_up, down = (
        median["up durable=False"],
        median["up durable=True"],
        median["down"],
    )
    print(f"medians of {args.rounds} rounds")
    print(f"disk synced write (dd conv=fdatasync)   {median['disk']:5.2f} GB/s")
    print(f"loopback TCP copy, SHA-256 at both ends {median['floor']:5.2f} GB/s (the floor)")
    print(f"nginx PUT (sendfile client)             {median['nginx up']:5.2f} GB/s")
    print(f"nginx GET (raw client, writing)         {median['nginx down']:5.2f} GB/s")
    print(f"nginx GET (raw client, writing+hashing) {median['nginx down hashed']:5.2f} GB/s")
    if "nginx down curl" in median:
        print(f"nginx GET (curl to a file)              {median['nginx down curl']:5.2f} GB/s")
    print(
        f"HyperSend upload, durability off        {fast_up:5.2f} GB/s"
        f"  = {fast_up / median['nginx up']:4.2f}x nginx PUT (target 0.80),"
        f" {fast_up / median['floor']:4.2f}x the floor"
    )
    print(
        f"HyperSend upload, durability on         {durable_up:5.2f} GB/s"
        f"  = {durable_up / median['disk']:4.2f}x synced disk (target 0.80),"
        f" {durable_up / median['floor']:4.2f}x the floor"
    )
    for durable in (False, True):
        if (tus := median.get(f"tus up durable={durable}")) is not None:
            chunk_api = median[f"up durable={durable}"]
            print(
                f"tus upload by curl, durability {'on ' if durable else 'off'}    {tus:5.2f} GB/s"
                f"  = {tus / chunk_api:4.2f}x the chunk API's upload (target 0.90)"
            )
    print(
        f"HyperSend download (verified)           {down:5.2f} GB/s"
        f"  = {down / median['nginx down hashed']:4.2f}x nginx GET, same client hashing"
        f" (target 0.85), {down / median['nginx down']:4.2f}x without hashing"
    )
    if "down curl" in median:
        print(
            f"HyperSend download by curl (signed link) {median['down curl']:5.2f} GB/s"
            f"  = {median['down curl'] / median['nginx down curl']:4.2f}x nginx GET by curl"
            " (target 0.85)"
        )
    port_down = median["port down"]
    print(
        f"download port, download (verified)      {port_down:5.2f} GB/s"
        f"  = {port_down / median['nginx down hashed']:4.2f}x nginx GET, same client hashing;"
        f" server {median['port down cpu']:5.3f} CPU-s/GiB"
    )
    if "port down curl" in median:
        print(
            f"download port, download by curl (link)  {median['port down curl']:5.2f} GB/s"
            f"  = {median['port down curl'] / median['nginx down curl']:4.2f}x nginx GET by"
            f" curl; server {median['port down curl cpu']:5.3f} CPU-s/GiB (target 0.15)"
        )
    front_down = median["front down"]
    print(
        f"behind nginx, download (verified)       {front_down:5.2f} GB/s"
        f"  = {front_down / median['nginx down hashed']:4.2f}x nginx GET, same client hashing"
        f" (target 0.95); app {median['front down app cpu']:5.3f} CPU-s/GiB (target 0.02)"
    )
    if "front down curl" in median:
        print(
            f"behind nginx, download by curl (link)   {median['front down curl']:5.2f} GB/s"
            f"  = {median['front down curl'] / median['nginx down curl']:4.2f}x nginx GET by"
            f" curl (target 0.95); app {median['front down curl app cpu']:5.3f},"
            f" nginx {median['front down curl nginx cpu']:5.3f} CPU-s/GiB"
        )
    print(
        f"behind nginx, upload (durability off)   {median['front up']:5.2f} GB/s"
        f"  = {median['front up'] / fast_up:4.2f}x HyperSend alone;"
        f" app {median['front up app cpu']:5.2f} CPU-s/GiB"
    )
    print(f"HyperSend server peak RSS               {max(runs['rss']):5.0f} MiB (target <150)")
    print(
        "What taking an upload costs any server here: nginx's PUT"
        f" {median['nginx up cpu']:5.2f} CPU-s/GiB (receive and write);"
        f" the floor's receiving end {median['floor receiving cpu']:5.2f}"
        " (receive, SHA-256, write)"
    )
    print("HyperSend server CPU-seconds per GiB (user + system, all its processes):")
    for name in (
        "up durable=False",
        "up durable=True",
        "tus up durable=False",
        "tus up durable=True",
        "down",
        "down curl",
    ):
        if f"{name} cpu" in median:
            print(f"  {name:<36} {median[f'{name} cpu']:5.2f} s/GiB")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    asyncio.run(main())
