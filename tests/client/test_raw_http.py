"""The client's own HTTP/1.1 connections for file bytes, against a real server."""

import asyncio
import hashlib
from pathlib import Path

import pytest

from hypersend.client import AuthError, HyperSendClient, NotFoundError, ServerUnreachable, Tokens
from hypersend.client.http import ApiSession
from hypersend.client.raw_http import RawConnection
from tests.support.files import random_file


async def test_a_download_streams_in_full_pieces_and_answers_ranges(
    alice: HyperSendClient, tmp_path: Path
) -> None:
    source = random_file(tmp_path / "data.bin", 3 * 1024 * 1024 + 17)
    info = await alice.upload_file(source)
    connection = RawConnection(alice.api)
    digest, sizes = hashlib.sha256(), []
    async with connection.get(f"/files/download/{info.file_id}", {}) as reply:
        assert reply.status == 200
        async for piece in reply.pieces():
            sizes.append(len(piece))
            digest.update(piece)
            await asyncio.sleep(0.01)  # a slow reader: the socket is read no further meanwhile
    assert digest.hexdigest() == hashlib.sha256(source.read_bytes()).hexdigest()
    assert sizes == [1024 * 1024] * 3 + [17]  # the buffers are filled before they are handed on
    async with connection.get(f"/files/download/{info.file_id}", {"Range": "bytes=-17"}) as reply:
        assert reply.status == 206
        tail = b"".join([bytes(piece) async for piece in reply.pieces()])
    assert tail == source.read_bytes()[-17:]


async def test_a_download_cut_short_is_server_unreachable(tmp_path: Path) -> None:
    """A server that promises more bytes than it sends, then closes."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 3000000\r\n\r\n" + b"x" * 100_000)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    api = ApiSession(f"http://127.0.0.1:{port}", tokens=Tokens("a", "r", 0))
    received: list[int] = []

    async def download() -> None:
        async with RawConnection(api).get("/file", {}) as reply:
            async for piece in reply.pieces():
                received.append(len(piece))

    try:
        with pytest.raises(ServerUnreachable):
            await download()
    finally:
        server.close()
        await api.http.aclose()
    assert sum(received) == 100_000


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
