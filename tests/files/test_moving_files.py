"""`hypersend move-files`: a disk installation's files into a bucket and back, each file
checked against its recorded digests, resumable, and a damaged file reported, not moved."""

import shutil
import subprocess
import sys
from pathlib import Path

from hypersend.client import HyperSendClient
from tests.support.accounts import signed_in
from tests.support.files import random_file
from tests.support.s3 import S3Server
from tests.support.server import TEST_CHUNK_SIZE, ServerProcess


def move_files(
    server: ServerProcess, bucket: dict[str, str], to: str
) -> "subprocess.CompletedProcess[str]":
    return subprocess.run(
        [sys.executable, "-m", "hypersend", "move-files", "--to", to],
        env={**server.env, **bucket, "DATA_ROOT": str(server.data_root)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def flip_a_bit(path: Path, at: int) -> None:
    with path.open("r+b") as handle:
        handle.seek(at)
        byte = handle.read(1)[0]
        handle.seek(at)
        handle.write(bytes([byte ^ 1]))


async def test_files_move_to_a_bucket_and_back_byte_identical(s3: S3Server, tmp_path: Path) -> None:
    bucket = s3.settings(s3.new_bucket())
    sources = [
        random_file(tmp_path / "one.bin", 3 * TEST_CHUNK_SIZE + 17),
        random_file(tmp_path / "two.bin", 100),
        random_file(tmp_path / "damaged.bin", 2 * TEST_CHUNK_SIZE),
    ]
    on_disk = ServerProcess(tmp_path / "data").start()
    async with await signed_in(on_disk.url) as client:
        infos = [await client.upload_file(source, state_dir=tmp_path) for source in sources]
        tokens = client.tokens
    on_disk.stop()
    flip_a_bit(on_disk.disk_path(infos[2].file_id), TEST_CHUNK_SIZE + 5)  # rot since upload

    first = move_files(on_disk, bucket, "bucket")
    assert first.returncode == 1, first.stderr
    assert "2 files moved" in first.stdout
    assert infos[2].file_id in first.stderr
    assert "chunk 1" in first.stderr
    keys = sorted(s3.object_keys(bucket["S3_BUCKET"]))
    assert keys == sorted(f"files/{info.file_id}" for info in infos[:2])
    assert s3.pending_uploads(bucket["S3_BUCKET"]) == []  # the damaged one left nothing
    again = move_files(on_disk, bucket, "bucket")
    assert "0 files moved" in again.stdout
    assert "2 already there" in again.stdout

    shutil.rmtree(on_disk.data_root / "files")  # from now on the bucket is all there is
    on_bucket = ServerProcess(on_disk.data_root, env=bucket, name="on-bucket").start()
    try:
        async with HyperSendClient(on_bucket.url, tokens=tokens) as client:
            for info, source in zip(infos[:2], sources, strict=False):
                copy = await client.download_file(info.file_id, tmp_path / f"b-{source.name}")
                assert copy.read_bytes() == source.read_bytes()
                assert (await client.file_info(info.file_id)).content_hash == info.content_hash
    finally:
        on_bucket.stop()

    back = move_files(on_disk, bucket, "disk")
    assert "2 files moved" in back.stdout
    assert "damaged.bin): the source has no bytes for it" in back.stderr  # never reached it
    on_disk.start()
    try:
        async with HyperSendClient(on_disk.url, tokens=tokens) as client:
            for info, source in zip(infos[:2], sources, strict=False):
                copy = await client.download_file(info.file_id, tmp_path / f"d-{source.name}")
                assert copy.read_bytes() == source.read_bytes()
    finally:
        on_disk.stop()
    flip_a_bit(on_disk.disk_path(infos[0].file_id), 3)  # a copy gone bad is copied again
    repaired = move_files(on_disk, bucket, "disk")
    assert "1 file moved" in repaired.stdout
    assert "1 already there" in repaired.stdout
    assert repaired.returncode == 1  # the damaged file is still reported
    assert on_disk.disk_path(infos[0].file_id).read_bytes() == sources[0].read_bytes()
