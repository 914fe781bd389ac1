"""Quotas, disk space, expiry, retention and crash safety, each on a server of its own."""

import asyncio
import fcntl
import hashlib
from pathlib import Path

import pytest

from hypersend.client import TooLargeError
from tests.support.accounts import signed_in
from tests.support.files import put_chunk, random_file, start
from tests.support.server import TEST_CHUNK_SIZE, ServerProcess


async def test_quota_counts_every_file_of_the_user(own_server: ServerProcess) -> None:
    own_server.env["DEFAULT_USER_QUOTA"] = "1000"
    own_server.start()
    async with await signed_in(own_server.url) as client:
        await start(client, 600)
        with pytest.raises(TooLargeError) as caught:
            await start(client, 401)
        assert caught.value.code == "over_quota"
        await start(client, 400)


@pytest.mark.disk_store
async def test_no_room_on_disk_is_507(own_server: ServerProcess) -> None:
    own_server.env["MIN_FREE_DISK_BYTES"] = str(2**62)
    own_server.start()
    async with await signed_in(own_server.url) as client:
        response = await client.api.http.post(
            "/files/upload/start",
            json={"filename": "a", "size": 10},
            headers=client.api.auth_headers(),
        )
    assert response.status_code == 507
    assert response.json()["code"] == "insufficient_storage"


async def test_abandoned_uploads_expire_and_are_swept(own_server: ServerProcess) -> None:
    own_server.env.update(UPLOAD_EXPIRY_HOURS="0.0003", SWEEP_INTERVAL_SECONDS="0.5")
    own_server.start()
    async with await signed_in(own_server.url) as client:
        file_id = str((await start(client, TEST_CHUNK_SIZE + 1))["file_id"])
        assert own_server.holds_file(file_id)
        await asyncio.sleep(2.5)
        late = await put_chunk(client, file_id, 0, b"x" * TEST_CHUNK_SIZE)
        assert late.status_code in (404, 410)
        assert not own_server.holds_file(file_id)
        assert (
            await client.api.http.get(f"/files/{file_id}/info", headers=client.api.auth_headers())
        ).status_code == 404


async def test_retention_removes_old_completed_files(
    own_server: ServerProcess, tmp_path: Path
) -> None:
    own_server.env.update(RETENTION_DAYS="0.00002", SWEEP_INTERVAL_SECONDS="0.5")
    own_server.start()
    async with await signed_in(own_server.url) as client:
        info = await client.upload_file(random_file(tmp_path / "a.bin", 100), state_dir=tmp_path)
        assert own_server.holds_file(info.file_id)
        await asyncio.sleep(3)
        assert not own_server.holds_file(info.file_id)


async def test_acknowledged_chunks_survive_kill_9(
    own_server: ServerProcess, tmp_path: Path
) -> None:
    own_server.env["DURABLE_UPLOADS"] = "true"
    own_server.start()
    source = random_file(tmp_path / "big.bin", 4 * TEST_CHUNK_SIZE)
    data = source.read_bytes()
    async with await signed_in(own_server.url) as client:
        file_id = str((await start(client, len(data)))["file_id"])
        for index in (0, 2):
            piece = data[index * TEST_CHUNK_SIZE : (index + 1) * TEST_CHUNK_SIZE]
            response = await put_chunk(
                client, file_id, index, piece, digest=hashlib.sha256(piece).hexdigest()
            )
            assert response.status_code == 200
        own_server.kill()
        own_server.start()
        info = await client.file_info(file_id)
        assert info.missing_chunks == [1, 3]
        for index in info.missing_chunks:
            piece = data[index * TEST_CHUNK_SIZE : (index + 1) * TEST_CHUNK_SIZE]
            assert (await put_chunk(client, file_id, index, piece)).status_code == 200
        copy = await client.download_file(file_id, tmp_path / "copy.bin")
        assert copy.read_bytes() == data


async def test_client_upload_resumes_across_a_server_restart(
    own_server: ServerProcess, tmp_path: Path
) -> None:
    own_server.start()
    source = random_file(tmp_path / "resume.bin", 8 * TEST_CHUNK_SIZE + 7)
    async with await signed_in(own_server.url) as client:
        restarted = False

        def kill_midway(done: int, total: int) -> None:
            nonlocal restarted
            if not restarted and done >= 3 * TEST_CHUNK_SIZE:
                restarted = True
                own_server.kill()
                own_server.start()

        info = await client.upload_file(
            source, parallel=2, progress=kill_midway, state_dir=tmp_path
        )
        assert restarted
        copy = await client.download_file(info.file_id, tmp_path / "copy.bin")
        assert copy.read_bytes() == source.read_bytes()


async def test_unfinished_uploads_of_one_user_are_bounded(own_server: ServerProcess) -> None:
    own_server.env["MAX_UPLOADING_BYTES_PER_USER"] = str(3 * TEST_CHUNK_SIZE)
    own_server.start()
    async with await signed_in(own_server.url) as client:
        first = await start(client, 2 * TEST_CHUNK_SIZE)
        with pytest.raises(TooLargeError) as caught:
            await start(client, 2 * TEST_CHUNK_SIZE)
        assert caught.value.code == "too_many_unfinished_uploads"
        for index in range(2):
            answer = await put_chunk(client, str(first["file_id"]), index, b"y" * TEST_CHUNK_SIZE)
            assert answer.status_code == 200
        await start(client, 2 * TEST_CHUNK_SIZE)  # the first is complete: room again


IDLE_RELEASE = {"UPLOAD_IDLE_RELEASE_MINUTES": "0.02", "SWEEP_INTERVAL_SECONDS": "0.3"}


def allocated_bytes(path: Path) -> int:
    return path.stat().st_blocks * 512


async def wait_for_allocation(path: Path, below: int) -> int:
    """Wait until the file holds fewer than `below` bytes of disk; return what it holds."""
    for _ in range(100):
        if (allocated := allocated_bytes(path)) < below:
            return allocated
        await asyncio.sleep(0.1)
    raise AssertionError(f"{path} still holds {allocated_bytes(path)} bytes")


def chunks_of(data: bytes) -> list[bytes]:
    return [data[at : at + TEST_CHUNK_SIZE] for at in range(0, len(data), TEST_CHUNK_SIZE)]


@pytest.mark.disk_store
async def test_an_idle_upload_gives_back_its_unwritten_disk_and_takes_it_again(
    own_server: ServerProcess, tmp_path: Path
) -> None:
    own_server.env.update(IDLE_RELEASE)
    own_server.start()
    data = random_file(tmp_path / "idle.bin", 64 * TEST_CHUNK_SIZE).read_bytes()
    pieces = chunks_of(data)
    async with await signed_in(own_server.url) as client:
        file_id = str((await start(client, len(data)))["file_id"])
        stored = own_server.data_root / "files" / file_id[-2:] / file_id
        assert allocated_bytes(stored) >= len(data)  # reserved whole at the start
        assert (await put_chunk(client, file_id, 0, pieces[0])).status_code == 200
        kept = await wait_for_allocation(stored, below=len(data) // 4)
        assert kept >= TEST_CHUNK_SIZE  # the received chunk keeps its blocks
        assert stored.stat().st_size == len(data)
        assert (await put_chunk(client, file_id, 1, pieces[1])).status_code == 200
        assert allocated_bytes(stored) >= len(data)  # reserved whole again
        for index, piece in enumerate(pieces[2:], start=2):
            assert (await put_chunk(client, file_id, index, piece)).status_code == 200
        copy = await client.download_file(file_id, tmp_path / "copy.bin")
        assert copy.read_bytes() == data


@pytest.mark.disk_store
async def test_a_resumed_idle_upload_without_room_left_is_507_and_stays_resumable(
    own_server: ServerProcess, tmp_path: Path
) -> None:
    own_server.env.update(IDLE_RELEASE)
    own_server.start()
    data = random_file(tmp_path / "idle.bin", 32 * TEST_CHUNK_SIZE).read_bytes()
    pieces = chunks_of(data)
    async with await signed_in(own_server.url) as client:
        file_id = str((await start(client, len(data)))["file_id"])
        stored = own_server.data_root / "files" / file_id[-2:] / file_id
        assert (await put_chunk(client, file_id, 0, pieces[0])).status_code == 200
        await wait_for_allocation(stored, below=len(data) // 4)
        own_server.stop()
        own_server.env["MIN_FREE_DISK_BYTES"] = str(2**62)  # the disk filled up meanwhile
        own_server.start()
        refused = await put_chunk(client, file_id, 1, pieces[1])
        assert refused.status_code == 507
        assert refused.json()["code"] == "insufficient_storage"
        assert (await client.file_info(file_id)).missing_chunks == list(range(1, len(pieces)))
        own_server.stop()
        del own_server.env["MIN_FREE_DISK_BYTES"]
        own_server.start()
        for index, piece in enumerate(pieces[1:], start=1):
            assert (await put_chunk(client, file_id, index, piece)).status_code == 200
        copy = await client.download_file(file_id, tmp_path / "copy.bin")
        assert copy.read_bytes() == data


@pytest.mark.disk_store
async def test_an_upload_file_that_any_process_is_writing_is_not_given_back(
    own_server: ServerProcess, tmp_path: Path
) -> None:
    own_server.env.update(IDLE_RELEASE)
    own_server.start()
    size = 32 * TEST_CHUNK_SIZE
    async with await signed_in(own_server.url) as client:
        file_id = str((await start(client, size))["file_id"])
        stored = own_server.data_root / "files" / file_id[-2:] / file_id
        with stored.open("rb") as writer:  # what a chunk writer in another process holds
            fcntl.flock(writer, fcntl.LOCK_SH)
            await asyncio.sleep(3)  # idle long past the limit, several sweeps
            assert allocated_bytes(stored) >= size
        assert await wait_for_allocation(stored, below=size) < TEST_CHUNK_SIZE
