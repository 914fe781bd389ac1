"""What only the S3 store does: a bucket that stops answering, start-up checks, presigned
downloads, leftover multipart uploads, S3's limit on parts. (Everything else about files runs
on both stores: the `[s3]` tests of this folder.)"""

import asyncio
import base64
import hashlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from hypersend.clock import utcnow
from hypersend.config import Settings
from hypersend.storage import open_storage
from tests.support.accounts import signed_in
from tests.support.files import put_chunk, random_file, start
from tests.support.s3 import S3Server, sdk_client
from tests.support.server import TEST_CHUNK_SIZE, ServerProcess, free_port
from tests.support.tcp_proxy import TcpProxy


@pytest.fixture
def bucket_server(s3: S3Server, tmp_path: Path) -> Iterator[ServerProcess]:
    """A server of the test's own on a fresh bucket (not started yet)."""
    process = ServerProcess(tmp_path / "data", env=s3.settings(s3.new_bucket()))
    yield process
    process.stop()


def chunks_of(data: bytes) -> list[bytes]:
    return [data[at : at + TEST_CHUNK_SIZE] for at in range(0, len(data), TEST_CHUNK_SIZE)]


async def test_a_bucket_that_stops_answering_fails_chunks_with_503_and_nothing_is_lost(
    s3: S3Server, bucket_server: ServerProcess, tmp_path: Path
) -> None:
    bucket_server.env["S3_TIMEOUT_SECONDS"] = "1.5"
    bucket_server.start()
    data = random_file(tmp_path / "a.bin", 4 * TEST_CHUNK_SIZE).read_bytes()
    pieces = chunks_of(data)
    async with await signed_in(bucket_server.url) as client:
        file_id = str((await start(client, len(data)))["file_id"])
        assert (await put_chunk(client, file_id, 0, pieces[0])).status_code == 200
        s3.pause()
        try:
            failed = await put_chunk(
                client, file_id, 1, pieces[1], digest=hashlib.sha256(pieces[1]).hexdigest()
            )
        finally:
            s3.resume()
        assert failed.status_code == 503
        assert failed.json()["code"] == "file_store_unavailable"
        assert int(failed.headers["retry-after"]) >= 1
        assert (await client.file_info(file_id)).missing_chunks == [1, 2, 3]
        for index in (1, 2, 3):
            assert (await put_chunk(client, file_id, index, pieces[index])).status_code == 200
        assert (await client.download_file(file_id, tmp_path / "copy.bin")).read_bytes() == data


async def test_a_bucket_endpoint_that_goes_away_and_comes_back_costs_only_retries(
    s3: S3Server, bucket_server: ServerProcess, tmp_path: Path
) -> None:
    endpoint = await TcpProxy(s3.port).start()
    bucket_server.env["S3_ENDPOINT_URL"] = endpoint.url
    await asyncio.to_thread(bucket_server.start)  # the proxy serves on this loop meanwhile
    data = random_file(tmp_path / "gone.bin", 4 * TEST_CHUNK_SIZE).read_bytes()
    pieces = chunks_of(data)
    try:
        async with await signed_in(bucket_server.url) as client:
            file_id = str((await start(client, len(data)))["file_id"])
            assert (await put_chunk(client, file_id, 0, pieces[0])).status_code == 200
            await endpoint.stop()  # the bucket's endpoint restarts: refused, not slow
            failed = await put_chunk(client, file_id, 1, pieces[1])
            assert failed.status_code == 503
            assert failed.json()["code"] == "file_store_unavailable"
            health = await client.api.http.get("/health")
            assert health.status_code == 503
            assert health.json()["storage"].startswith("error")
            await endpoint.start()
            assert (await client.file_info(file_id)).missing_chunks == [1, 2, 3]
            for index in (1, 2, 3):
                assert (await put_chunk(client, file_id, index, pieces[index])).status_code == 200
            copy = await client.download_file(file_id, tmp_path / "copy.bin")
            assert copy.read_bytes() == data
    finally:
        await endpoint.stop()


async def test_the_client_rides_out_a_bucket_pause_mid_upload(
    s3: S3Server, bucket_server: ServerProcess, tmp_path: Path
) -> None:
    bucket_server.env["S3_TIMEOUT_SECONDS"] = "1"
    bucket_server.start()
    source = random_file(tmp_path / "b.bin", 12 * TEST_CHUNK_SIZE + 5)
    paused = False

    def pause_once(done: int, total: int) -> None:
        nonlocal paused
        if not paused and done >= 3 * TEST_CHUNK_SIZE:
            paused = True
            s3.pause()
            asyncio.get_running_loop().call_later(3, s3.resume)

    async with await signed_in(bucket_server.url) as client:
        try:
            info = await client.upload_file(
                source, parallel=2, progress=pause_once, state_dir=tmp_path
            )
        finally:
            s3.resume()
        assert paused
        copy = await client.download_file(info.file_id, tmp_path / "copy.bin")
        assert copy.read_bytes() == source.read_bytes()


def serve_refusal(env: dict[str, str], tmp_path: Path) -> str:
    """What `hypersend serve` says when it refuses to start (it must refuse)."""
    done = subprocess.run(
        [sys.executable, "-m", "hypersend", "serve", "--port", str(free_port())],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0
    return done.stderr.strip()


def test_serve_refuses_a_missing_bucket_or_an_unreachable_endpoint(
    s3: S3Server, tmp_path: Path
) -> None:
    settings = ServerProcess(tmp_path / "data", env=s3.settings("no-such-bucket")).env
    message = serve_refusal(settings, tmp_path)
    assert message.endswith("the bucket 'no-such-bucket' does not exist (S3_BUCKET)"), message
    assert "Traceback" not in message
    unreachable = {**settings, "S3_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}"}
    assert "cannot reach S3_ENDPOINT_URL" in serve_refusal(unreachable, tmp_path)
    small_chunks = {**settings, "S3_MIN_PART_BYTES": str(5 * 1024 * 1024)}
    assert "CHUNK_SIZE must be from S3_MIN_PART_BYTES" in serve_refusal(small_chunks, tmp_path)


async def test_signed_links_can_send_the_bytes_from_the_bucket_itself(
    s3: S3Server, bucket_server: ServerProcess, tmp_path: Path
) -> None:
    bucket_server.env["S3_PRESIGNED_DOWNLOADS"] = "true"
    # As Compose sets it for every replica: it is about files on disk, and a bucket ignores it.
    bucket_server.env["ACCEL_REDIRECT_PREFIX"] = "/_hypersend_files/"
    bucket_server.start()
    source = random_file(tmp_path / "report é.bin", 3 * TEST_CHUNK_SIZE + 11)
    data = source.read_bytes()
    async with await signed_in(bucket_server.url) as client:
        info = await client.upload_file(source, state_dir=tmp_path)
        link = await client.download_link(info.file_id)
        bearer = await client.api.http.get(
            f"/files/download/{info.file_id}", headers=client.api.auth_headers()
        )
    assert bearer.status_code == 200  # with a token, the server still sends the bytes
    assert bearer.content == data
    assert "x-accel-redirect" not in bearer.headers
    async with httpx.AsyncClient() as anonymous:
        redirect = await anonymous.get(link)
        assert redirect.status_code == 307
        location = redirect.headers["location"]
        assert location.startswith(s3.url)
        assert "X-Amz-Signature=" in location
        whole = await anonymous.get(location)
        assert whole.status_code == 200
        assert whole.content == data
        assert "filename*=UTF-8''report%20%C3%A9.bin" in whole.headers["content-disposition"]
        part = await anonymous.get(link, headers={"Range": "bytes=5-9"}, follow_redirects=True)
        assert part.status_code == 206
        assert part.content == data[5:10]
        tampered = await anonymous.get(link.replace("sig=", "sig=0"))
        assert tampered.status_code == 404


async def test_leftover_multipart_uploads_with_no_record_are_aborted(
    s3: S3Server, bucket_server: ServerProcess
) -> None:
    bucket_server.env.update(UPLOAD_EXPIRY_HOURS="0.0003", SWEEP_INTERVAL_SECONDS="0.5")
    bucket = bucket_server.env["S3_BUCKET"]
    # What a crash between starting the multipart upload and storing its record leaves.
    s3.client().create_multipart_upload(Bucket=bucket, Key="files/01LEFTOVER0000000000000000")
    assert s3.pending_uploads(bucket) == ["files/01LEFTOVER0000000000000000"]
    bucket_server.start()
    for _ in range(50):
        if not s3.pending_uploads(bucket):
            break
        await asyncio.sleep(0.2)
    assert s3.pending_uploads(bucket) == []


async def test_a_file_of_more_parts_than_s3_allows_is_refused_at_the_start(
    bucket_server: ServerProcess,
) -> None:
    bucket_server.start()
    async with await signed_in(bucket_server.url) as client:
        response = await client.api.http.post(
            "/files/upload/start",
            json={"filename": "huge.bin", "size": 10_000 * TEST_CHUNK_SIZE + 1},
            headers=client.api.auth_headers(),
        )
        assert response.status_code == 413
        assert response.json()["code"] == "file_too_large"
        assert "10000 chunks" in response.json()["detail"]
        fits = await start(client, 10_000 * TEST_CHUNK_SIZE)
        assert fits["total_chunks"] == 10_000


@pytest.fixture(scope="module")
def strict_s3() -> Iterator[S3Server]:
    """An S3 implementation that checks every signature."""
    process = S3Server(checking_signatures=True).start()
    yield process
    process.stop()


async def test_a_bucket_that_checks_signatures_takes_ours_and_refuses_a_wrong_secret(
    strict_s3: S3Server, tmp_path: Path
) -> None:
    key_id, secret, bucket = strict_s3.signed_in_user()
    settings = strict_s3.settings(bucket, key_id, secret)
    wrong = ServerProcess(tmp_path / "data", env={**settings, "AWS_SECRET_ACCESS_KEY": "x" * 40})
    refusal = serve_refusal(wrong.env, tmp_path)
    assert refusal.endswith(
        "the bucket refused these credentials (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)"
    ), refusal

    server = ServerProcess(tmp_path / "data", env=settings).start()
    try:
        data = random_file(tmp_path / "signed.bin", 3 * TEST_CHUNK_SIZE + 1).read_bytes()
        pieces = chunks_of(data)
        async with await signed_in(server.url) as client:
            file_id = str((await start(client, len(data)))["file_id"])
            for index, piece in enumerate(pieces):  # in a header, and in a trailer
                digest = hashlib.sha256(piece).hexdigest() if index % 2 else None
                answer = await put_chunk(client, file_id, index, piece, digest=digest)
                assert answer.status_code == 200, answer.text
            copy = await client.download_file(file_id, tmp_path / "copy.bin")
            assert copy.read_bytes() == data
            await client.delete_file(file_id)
        listing = sdk_client(strict_s3.url, key_id, secret).list_objects_v2(Bucket=bucket)
        assert listing.get("KeyCount", 0) == 0
    finally:
        server.stop()


async def test_a_crash_between_the_last_record_and_completing_is_mended_by_the_next_download(
    s3: S3Server, bucket_server: ServerProcess, tmp_path: Path
) -> None:
    """The server stopped after recording an upload's last chunk and before the bucket
    completed its multipart upload: what `kill -9` at that moment leaves, made here without
    the luck of timing (the last part stored straight into the bucket, the last chunk
    recorded through the store's own repository, the server down)."""
    bucket_server.start()
    data = random_file(tmp_path / "mended.bin", 3 * TEST_CHUNK_SIZE + 7).read_bytes()
    pieces = chunks_of(data)
    async with await signed_in(bucket_server.url) as client:
        file_id = str((await start(client, len(data)))["file_id"])
        for index, piece in enumerate(pieces[:-1]):
            assert (await put_chunk(client, file_id, index, piece)).status_code == 200
        bucket_server.stop()
        settings = Settings.model_validate(
            {"data_root": bucket_server.data_root, **bucket_server_settings(bucket_server)}
        )
        storage = await open_storage(settings)
        try:
            record = await storage.files.get(file_id)
            assert record is not None
            assert record.store_upload_id is not None
            last = len(pieces) - 1
            s3.client().upload_part(
                Bucket=settings.s3_bucket,
                Key=f"files/{file_id}",
                UploadId=record.store_upload_id,
                PartNumber=last + 1,
                Body=pieces[last],
                ChecksumSHA256=base64.b64encode(hashlib.sha256(pieces[last]).digest()).decode(),
            )
            receipt = await storage.files.record_chunk(
                file_id, last, hashlib.sha256(pieces[last]).digest(), expires_at=utcnow()
            )
            assert receipt.complete
        finally:
            await storage.close()
        assert s3.object_keys(settings.s3_bucket) == []  # the bucket has no file yet
        bucket_server.start()
        copy = await client.download_file(file_id, tmp_path / "copy.bin")
        assert copy.read_bytes() == data
    assert s3.object_keys(settings.s3_bucket) == [f"files/{file_id}"]
    assert s3.pending_uploads(settings.s3_bucket) == []


def bucket_server_settings(server: ServerProcess) -> dict[str, str]:
    """The server's bucket settings, as `Settings` fields."""
    names = ("S3_BUCKET", "S3_ENDPOINT_URL", "S3_REGION", "AWS_ACCESS_KEY_ID",
             "AWS_SECRET_ACCESS_KEY", "S3_MIN_PART_BYTES", "CHUNK_SIZE")  # fmt: skip
    return {name.lower(): server.env[name] for name in names}


async def test_parts_of_a_range_the_file_cannot_satisfy_are_passed_over(
    bucket_server: ServerProcess, tmp_path: Path
) -> None:
    bucket_server.start()
    data = random_file(tmp_path / "r.bin", 2 * TEST_CHUNK_SIZE).read_bytes()
    async with await signed_in(bucket_server.url) as client:
        info = await client.upload_file(tmp_path / "r.bin", state_dir=tmp_path)
        for header in ("bytes=-0,0-99", f"bytes={len(data) + 5}-,0-99"):
            answer = await client.api.http.get(
                f"/files/download/{info.file_id}",
                headers={**client.api.auth_headers(), "Range": header},
            )
            assert answer.status_code == 206, header
            assert answer.headers["content-range"] == f"bytes 0-99/{len(data)}"
            assert answer.content == data[:100]
