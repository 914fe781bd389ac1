"""Chunked, parallel, resumable uploads against a real server."""

import asyncio
import hashlib
import random
from pathlib import Path

import httpx
import pytest

from hypersend.client import HyperSendClient, InvalidInput, NotFoundError, TooLargeError
from hypersend.content_hash import content_hash
from tests.support.files import put_chunk, random_file, start
from tests.support.server import TEST_CHUNK_SIZE, ServerProcess

CHUNK = TEST_CHUNK_SIZE


class SimulatedCrash(Exception):
    """Stands for the client process dying part-way."""


async def test_parallel_out_of_order_chunks_complete_the_file(
    server: ServerProcess, alice: HyperSendClient, tmp_path: Path
) -> None:
    source = random_file(tmp_path / "src.bin", 5 * CHUNK + 1234)
    data = source.read_bytes()
    started = await start(alice, len(data))
    assert started["chunk_size"] == CHUNK
    assert started["total_chunks"] == 6
    file_id = str(started["file_id"])
    order = list(range(6))
    random.shuffle(order)
    pieces = {i: data[i * CHUNK : (i + 1) * CHUNK] for i in order}
    responses = await asyncio.gather(
        *[
            put_chunk(alice, file_id, i, pieces[i], digest=hashlib.sha256(pieces[i]).hexdigest())
            for i in order
        ]
    )
    assert all(r.status_code == 200 for r in responses), [r.text for r in responses]
    assert sum(r.json()["complete"] for r in responses) >= 1
    info = await alice.file_info(file_id)
    assert info.status == "complete"
    assert info.missing_chunks == []
    expected = content_hash(hashlib.sha256(pieces[i]).digest() for i in range(6))
    assert info.content_hash == expected

    assert server.stored_bytes(file_id) == data


async def test_sending_a_chunk_again_is_harmless(alice: HyperSendClient) -> None:
    started = await start(alice, CHUNK + 10)
    file_id = str(started["file_id"])
    first = b"a" * CHUNK
    assert (await put_chunk(alice, file_id, 0, first)).status_code == 200
    again = await put_chunk(alice, file_id, 0, first)
    assert again.status_code == 200
    assert again.json()["received_chunks"] == 1
    different = await put_chunk(alice, file_id, 0, b"b" * CHUNK)
    assert different.status_code == 409
    assert (await alice.file_info(file_id)).missing_chunks == [1]


@pytest.mark.parametrize(
    ("index", "body", "digest", "code"),
    [
        (9, b"x" * CHUNK, None, "chunk_index_out_of_range"),
        (-1, b"x" * CHUNK, None, "validation_error"),
        (0, b"x" * (CHUNK - 1), None, "wrong_chunk_length"),
        (1, b"x" * 11, None, "wrong_chunk_length"),
        (0, b"x" * CHUNK, "00" * 32, "digest_mismatch"),
        (0, b"x" * CHUNK, "not-hex", "bad_digest"),
    ],
)
async def test_bad_chunks_are_refused_and_not_kept(
    alice: HyperSendClient, index: int, body: bytes, digest: str | None, code: str
) -> None:
    file_id = str((await start(alice, CHUNK + 10))["file_id"])
    response = await put_chunk(alice, file_id, index, body, digest=digest)
    assert 400 <= response.status_code < 500
    assert response.json()["code"] == code
    assert (await alice.file_info(file_id)).missing_chunks == [0, 1]


async def test_a_body_longer_than_declared_is_cut_off(alice: HyperSendClient) -> None:
    file_id = str((await start(alice, CHUNK + 10))["file_id"])

    async def endless() -> object:
        for _ in range(100):
            yield b"y" * 8192

    try:
        response = await alice.api.http.put(
            f"/files/upload/chunk/{file_id}",
            params={"index": 1},
            content=endless(),  # type: ignore[arg-type]
            headers={**alice.api.auth_headers(), "Content-Type": "application/octet-stream"},
        )
    except httpx.TransportError:
        pass  # the server answered early and closed while the body was still being sent
    else:
        assert response.status_code == 422
        assert response.json()["code"] == "wrong_chunk_length"
    assert (await alice.file_info(file_id)).missing_chunks == [0, 1]


@pytest.mark.parametrize(
    "body",
    [
        {"filename": "a.bin", "size": 0},
        {"filename": "a.bin", "size": -5},
        {"filename": "", "size": 10},
        {"filename": "  /  ", "size": 10},
        {"filename": "a.bin", "size": "big"},
        {"size": 10},
    ],
)
async def test_bad_upload_starts_are_422(alice: HyperSendClient, body: dict[str, object]) -> None:
    with pytest.raises(InvalidInput) as caught:
        await alice.api.json("POST", "/files/upload/start", json=body)
    assert caught.value.status == 422


async def test_over_the_maximum_size_is_413(alice: HyperSendClient) -> None:
    with pytest.raises(TooLargeError) as caught:
        await start(alice, 40 * 1024**3 + 1)
    assert caught.value.code == "file_too_large"


async def test_client_filenames_never_become_paths(
    server: ServerProcess, alice: HyperSendClient
) -> None:
    started = await alice.api.json(
        "POST", "/files/upload/start", json={"filename": "../../etc/passwd", "size": 5}
    )
    info = await alice.file_info(started["file_id"])
    assert info.filename == "passwd"
    assert not (server.data_root / "etc").exists()


async def test_only_the_owner_can_send_chunks_or_see_an_upload(
    alice: HyperSendClient, bob: HyperSendClient
) -> None:
    file_id = str((await start(alice, 10))["file_id"])
    response = await put_chunk(bob, file_id, 0, b"0123456789")
    assert response.status_code == 404
    with pytest.raises(NotFoundError):
        await bob.file_info(file_id)
    with pytest.raises(NotFoundError):
        await bob.delete_file(file_id)
    unknown = await put_chunk(alice, "01NOSUCHFILE00000000000000", 0, b"x")
    assert unknown.status_code == 404


async def test_a_chat_id_at_start_must_be_the_callers(
    alice: HyperSendClient, bob: HyperSendClient, carol: HyperSendClient
) -> None:
    chat = await alice.open_direct_chat((await bob.me()).id)
    with pytest.raises(NotFoundError):
        await start(carol, 10, chat_id=chat.id)
    started = await start(bob, 10, chat_id=chat.id)
    assert (await bob.file_info(str(started["file_id"]))).status == "uploading"


async def test_client_upload_and_download_round_trip(
    alice: HyperSendClient, tmp_path: Path
) -> None:
    source = random_file(tmp_path / "movie.mkv", 3 * CHUNK + 99)
    seen: list[tuple[int, int]] = []
    info = await alice.upload_file(
        source, parallel=3, progress=lambda d, t: seen.append((d, t)), state_dir=tmp_path
    )
    assert info.status == "complete"
    assert info.mime == "video/x-matroska"
    assert seen[-1] == (source.stat().st_size, source.stat().st_size)
    target = await alice.download_file(info.file_id, tmp_path / "copy.mkv")
    assert target.read_bytes() == source.read_bytes()
    assert not (tmp_path / "copy.mkv.part").exists()
    assert list(tmp_path.glob("*.json")) == []


async def test_upload_resumes_after_a_client_crash(alice: HyperSendClient, tmp_path: Path) -> None:
    source = random_file(tmp_path / "big.bin", 6 * CHUNK)
    data = source.read_bytes()
    calls = 0

    def crash_after_two(done: int, total: int) -> None:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise SimulatedCrash

    with pytest.raises(SimulatedCrash):
        await alice.upload_file(source, parallel=1, progress=crash_after_two, state_dir=tmp_path)
    (record,) = tmp_path.glob("*.json")
    assert record.exists()

    sent: list[int] = []
    info = await alice.upload_file(
        source, parallel=2, progress=lambda d, t: sent.append(d), state_dir=tmp_path
    )
    assert sent[0] == 2 * CHUNK
    assert info.status == "complete"
    copy = await alice.download_file(info.file_id, tmp_path / "copy.bin")
    assert copy.read_bytes() == data


async def test_an_upload_outlives_its_access_token(
    server: ServerProcess, alice: HyperSendClient, tmp_path: Path
) -> None:
    """Chunks go out on connections of their own; a 401 there refreshes and sends again."""
    source = random_file(tmp_path / "long.bin", 3 * CHUNK + 11)
    first = alice.api.tokens
    assert first is not None

    def expire_once_started(done: int, total: int) -> None:
        tokens = alice.api.tokens
        if done == 0 and tokens is first:  # the upload has started; now the token runs out
            alice.api.tokens = type(tokens)("expired-access-token", tokens.refresh_token, 0)

    info = await alice.upload_file(source, parallel=2, progress=expire_once_started)
    assert info.status == "complete"
    assert alice.api.tokens is not None
    assert alice.api.tokens.refresh_token != first.refresh_token
