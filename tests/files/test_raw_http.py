"""The client's own HTTP/1.1 connections for file bytes, against a real server."""

import hashlib
from pathlib import Path

import pytest

from hypersend.client import AuthError, HyperSendClient, NotFoundError
from hypersend.client.raw_http import RawConnection
from tests.support.files import random_file


async def test_a_download_streams_in_batches_and_answers_ranges(
    alice: HyperSendClient, tmp_path: Path
) -> None:
    source = random_file(tmp_path / "data.bin", 3 * 1024 * 1024 + 17)
    info = await alice.upload_file(source)
    connection = RawConnection(alice.api)
    digest, sizes = hashlib.sha256(), []
    async with connection.get(f"/files/download/{info.file_id}", {}) as reply:
        assert reply.status == 200
        async for batch in reply.batches(1024 * 1024):
            sizes.append(sum(len(piece) for piece in batch))
            for piece in batch:
                digest.update(piece)
    assert digest.hexdigest() == hashlib.sha256(source.read_bytes()).hexdigest()
    assert all(size >= 1024 * 1024 for size in sizes[:-1])  # batches of at least 1 MiB
    assert sum(sizes) == source.stat().st_size
    async with connection.get(f"/files/download/{info.file_id}", {"Range": "bytes=-17"}) as reply:
        assert reply.status == 206
        tail = b"".join([piece async for batch in reply.batches() for piece in batch])
    assert tail == source.read_bytes()[-17:]


async def test_errors_are_typed(alice: HyperSendClient, tmp_path: Path) -> None:
    connection = RawConnection(alice.api)
    with pytest.raises(NotFoundError):
        async with connection.get("/files/download/01NOSUCHFILE0000000000000A", {}):
            pass
    tokens = alice.api.tokens
    assert tokens is not None
    stranger = HyperSendClient(alice.api.base_url, tokens=type(tokens)("expired", "x.1.y", 0))
    with pytest.raises(AuthError):
        async with RawConnection(stranger.api).get("/files/download/anything", {}):
            pass
    await stranger.close()
