"""Files in an S3-compatible bucket: HyperSend's S3 store beside its disk store, and beside the
bucket written and read directly by the same S3 client, in one run; then the client
libraries considered for the S3 store, each putting and getting the same object directly.

    .venv/bin/python bench/bucket.py [--size-gib 2] [--parallel 4] [--rounds 2]

The bucket is moto in server mode (tests/support/s3.py) on this machine, so every path shares
its cost (moto is Python: it is the slowest part of each path); what the ratio to "direct"
shows is what the server adds on the way. Prints GB/s, the server's peak RSS (target < 150
MiB) and its CPU-seconds per GiB; the libraries' own peak RSS (each in a child process).
Medians of interleaved rounds. Not part of the test suite.
"""

import argparse
import asyncio
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

from common import (
    GB,
    ServerProcess,
    add_source_options,
    peak_rss_mib,
    round_trip,
    settle,
    source_file,
    timed,
)
from tests.support.s3 import ACCESS_KEY, REGION, SECRET_KEY, S3Server

from hypersend.client import HyperSendClient
from hypersend.files.s3.client import Bucket, Part, S3Client
from hypersend.files.s3.signing import Credentials
from hypersend.files.streaming import forward_hashed

PART = 8 * 1024 * 1024
PIECE = 1024 * 1024


def our_client(s3: S3Server, bucket: str) -> S3Client:
    return S3Client(
        Bucket(bucket, s3.url, REGION, path_style=True), Credentials(ACCESS_KEY, SECRET_KEY)
    )


async def file_pieces(path: Path, first: int, length: int) -> AsyncIterator[bytes]:
    fd = os.open(path, os.O_RDONLY)
    try:
        done = 0
        while done < length:
            piece = await asyncio.to_thread(os.pread, fd, min(PIECE, length - done), first + done)
            done += len(piece)
            yield piece
    finally:
        os.close(fd)


async def direct_put(client: S3Client, key: str, source: Path, parallel: int) -> None:
    """A multipart upload of `source` in 8 MiB parts, `parallel` at a time, each hashed on its
    way and checked by the bucket (as the S3 store sends chunks)."""
    size = source.stat().st_size
    upload_id = await client.create_multipart_upload(key, "application/octet-stream")
    gate = asyncio.Semaphore(parallel)

    async def send(number: int) -> Part:
        first = (number - 1) * PART
        length = min(PART, size - first)
        async with gate:
            hasher = hashlib.sha256()
            body = forward_hashed(file_pieces(source, first, length), length, hasher)
            etag = await client.upload_part(
                key, upload_id, number, length, body, sha256=hasher.digest
            )
            return Part(number, etag, hasher.digest())

    parts = await asyncio.gather(*(send(n) for n in range(1, -(-size // PART) + 1)))
    await client.complete_multipart_upload(key, upload_id, list(parts))


async def direct_get(client: S3Client, key: str, target: Path) -> None:
    with target.open("wb") as out:
        async with client.get_object(key) as response:
            async for piece in response.aiter_raw(PIECE):
                await asyncio.to_thread(out.write, piece)


async def through_hypersend(
    source: Path, scratch: Path, env: dict[str, str], parallel: int
) -> dict[str, float]:
    server = ServerProcess(scratch / "hs", {**env, "CHUNK_SIZE": str(PART)}).start()
    try:
        async with HyperSendClient(server.url) as client:
            await client.register("bench@example.test", "benchmark password", "Bench")
            await client.login("bench@example.test", "benchmark password")
            trip = await round_trip(client, server, source, scratch, parallel=parallel)
        return {
            "up": trip.up,
            "down": trip.down,
            "up cpu": trip.up_cpu,
            "down cpu": trip.down_cpu,
            "rss": peak_rss_mib(server),
        }
    finally:
        server.stop()
        shutil.rmtree(scratch / "hs", ignore_errors=True)


# -- the client libraries, each in a child process: `bucket.py --library NAME ...` --------


async def library_ours(endpoint: str, bucket: str, source: Path, target: Path) -> None:
    client = S3Client(
        Bucket(bucket, endpoint, REGION, path_style=True), Credentials(ACCESS_KEY, SECRET_KEY)
    )
    try:
        await direct_put(client, "lib/ours", source, 4)
        await direct_get(client, "lib/ours", target)
    finally:
        await client.close()


async def library_obstore(endpoint: str, bucket: str, source: Path, target: Path) -> None:
    import obstore
    from obstore.store import S3Store

    store = S3Store(
        bucket,
        endpoint=endpoint,
        region=REGION,
        access_key_id=ACCESS_KEY,
        secret_access_key=SECRET_KEY,
        virtual_hosted_style_request=False,
        client_options={"allow_http": True},
    )
    await obstore.put_async(store, "lib/obstore", source, chunk_size=PART, max_concurrency=4)
    with target.open("wb") as out:
        answer = await obstore.get_async(store, "lib/obstore")
        async for piece in answer.stream(min_chunk_size=PIECE):
            await asyncio.to_thread(out.write, piece)


async def library_aiobotocore(endpoint: str, bucket: str, source: Path, target: Path) -> None:
    from aiobotocore.session import get_session

    session = get_session()
    async with session.create_client(
        "s3",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
    ) as s3:
        key, size = "lib/aiobotocore", source.stat().st_size
        upload = await s3.create_multipart_upload(Bucket=bucket, Key=key)
        gate = asyncio.Semaphore(4)

        async def send(number: int) -> dict[str, object]:
            async with gate:  # botocore signs a body it holds whole (plain HTTP: the payload)
                with source.open("rb") as part:
                    part.seek((number - 1) * PART)
                    body = part.read(PART)
                answer = await s3.upload_part(
                    Bucket=bucket,
                    Key=key,
                    UploadId=upload["UploadId"],
                    PartNumber=number,
                    Body=body,
                )
                return {"PartNumber": number, "ETag": answer["ETag"]}

        parts = await asyncio.gather(*(send(n) for n in range(1, -(-size // PART) + 1)))
        await s3.complete_multipart_upload(
            Bucket=bucket, Key=key, UploadId=upload["UploadId"], MultipartUpload={"Parts": parts}
        )
        answer = await s3.get_object(Bucket=bucket, Key=key)
        with target.open("wb") as out:
            async for piece in answer["Body"].iter_chunks(PIECE):
                await asyncio.to_thread(out.write, piece)


LIBRARIES = {
    "ours (httpx)": library_ours,
    "obstore": library_obstore,
    "aiobotocore": library_aiobotocore,
}


def run_library(
    name: str, endpoint: str, bucket: str, source: Path, scratch: Path
) -> dict[str, float]:
    """Put and get `source` with one library in a child process: GB/s and its peak RSS."""
    target = scratch / "lib-copy.bin"
    done = subprocess.run(
        [sys.executable, __file__, "--library", name, endpoint, bucket, str(source), str(target)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        return {"error": 1.0, "message": done.stderr.strip().splitlines()[-1]}  # type: ignore[dict-item]
    result: dict[str, float] = json.loads(done.stdout)
    same = target.stat().st_size == source.stat().st_size
    target.unlink()
    return {**result, "intact": float(same)}


def library_child(name: str, endpoint: str, bucket: str, source: str, target: str) -> None:
    import resource

    started = time.perf_counter()
    asyncio.run(LIBRARIES[name](endpoint, bucket, Path(source), Path(target)))
    elapsed = time.perf_counter() - started
    size = Path(source).stat().st_size
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"put+get": 2 * size / elapsed / GB, "rss": peak}))


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    add_source_options(parser)
    parser.add_argument("--parallel", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds (medians)")
    args = parser.parse_args()
    runs: dict[str, list[float]] = {}
    s3 = S3Server().start()
    try:
        async with source_file(args) as (scratch, source):
            size = source.stat().st_size
            for _ in range(args.rounds):
                bucket = s3.new_bucket()
                client = our_client(s3, bucket)
                settle(scratch, size)
                with timed() as up:
                    await direct_put(client, "direct", source, args.parallel)
                settle(scratch, size)
                with timed() as down:
                    await direct_get(client, "direct", scratch / "direct-copy.bin")
                (scratch / "direct-copy.bin").unlink()
                await client.close()
                runs.setdefault("direct up", []).append(size / up[0] / GB)
                runs.setdefault("direct down", []).append(size / down[0] / GB)
                for name, env in (("s3", s3.settings(bucket)), ("disk", {})):
                    env = {**env, "S3_MIN_PART_BYTES": str(PART)} if env else env
                    rates = await through_hypersend(source, scratch, env, args.parallel)
                    for key, value in rates.items():
                        runs.setdefault(f"{name} {key}", []).append(value)
                print("round:", ", ".join(f"{k} {v[-1]:.2f}" for k, v in runs.items()), flush=True)
                s3.empty(bucket)  # moto keeps what it holds: gigabytes a round
            libraries = {}
            for name in LIBRARIES:
                bucket = s3.new_bucket()
                libraries[name] = run_library(name, s3.url, bucket, source, scratch)
                print(f"library {name}: {libraries[name]}", flush=True)
                s3.empty(bucket)
    finally:
        s3.stop()
    median = {name: statistics.median(values) for name, values in runs.items()}
    print(f"medians of {args.rounds} rounds, {size / 1024**3:.1f} GiB, moto in server mode")
    for way in ("up", "down"):
        direct = median[f"direct {way}"]
        print(f"{way}load, direct to the bucket (our S3 client)   {direct:5.2f} GB/s")
        s3_rate, disk_rate = median[f"s3 {way}"], median[f"disk {way}"]
        print(
            f"{way}load through HyperSend, S3 store            {s3_rate:5.2f} GB/s"
            f" = {s3_rate / direct:4.2f}x direct, {median[f's3 {way} cpu']:5.2f} server CPU-s/GiB"
        )
        print(
            f"{way}load through HyperSend, disk store          {disk_rate:5.2f} GB/s"
            f" = {disk_rate / s3_rate:4.2f}x the S3 store,"
            f" {median[f'disk {way} cpu']:5.2f} server CPU-s/GiB"
        )
    print(
        f"server peak RSS: S3 store {max(runs['s3 rss']):4.0f} MiB,"
        f" disk store {max(runs['disk rss']):4.0f} MiB (target < 150)"
    )
    print("client libraries, put + get of the same file directly (a child process each):")
    for name, result in libraries.items():
        if "error" in result:
            print(f"  {name:<14} failed: {result.get('message')}")
        else:
            print(
                f"  {name:<14} {result['put+get']:5.2f} GB/s, peak RSS {result['rss']:5.0f} MiB"
                + ("" if result["intact"] else "  (the copy differs!)")
            )


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--library":
        library_child(*sys.argv[2:7])
    else:
        os.environ.setdefault("PYTHONUNBUFFERED", "1")
        asyncio.run(main())
