"""The client WebSocket the P2P relay's ends use, over real connections: against the server's
own WebSockets, and against a small WebSocket peer that sends what granian never does
(pings, fragmented messages, binary messages larger than the client's buffers)."""

import asyncio
import contextlib
import json
import os
import struct
from collections.abc import AsyncIterator

import pytest
from websockets.utils import accept_key

from hypersend.client import AuthError, HyperSendClient, Tokens
from hypersend.client.buffered_receiver import BUFFER_SIZE
from hypersend.client.http import ApiSession
from hypersend.client.websocket_stream import (
    HandshakeRefused,
    WebSocketStream,
    open_websocket,
)
from tests.support.accounts import signed_in
from tests.support.server import ServerProcess


async def next_text(ws: WebSocketStream) -> str:
    async with asyncio.timeout(5):
        async for item in ws.incoming():
            if isinstance(item, str):
                return item
    raise AssertionError(f"closed first: {ws.close_code} {ws.close_reason}")


async def test_text_messages_both_ways_and_a_clean_close(alice: HyperSendClient) -> None:
    async with open_websocket(alice.api, "/ws") as ws:
        await ws.send_text(json.dumps({"type": "ping"}))
        while json.loads(await next_text(ws))["type"] != "pong":
            pass
    assert ws.close_code == 1000


async def test_a_socket_without_a_valid_token_is_refused(server: ServerProcess) -> None:
    api = ApiSession(server.url, tokens=Tokens("not-a-token", "not-a-token", 0))
    try:
        with pytest.raises(AuthError) as refused:  # after one refresh, which fails too
            async with open_websocket(api, "/p2p/transfers/nope/send"):
                pass
        assert refused.value.status == 403
        assert isinstance(refused.value.__cause__, HandshakeRefused)
        assert api.tokens is None  # the refresh token was refused: signed out
    finally:
        await api.close()


async def test_the_server_closing_ends_the_stream_with_its_code(server: ServerProcess) -> None:
    client = await signed_in(server.url, "Leaving")
    async with open_websocket(client.api, "/ws") as ws:
        await client.logout()  # the server ends the session's sockets at once
        async with asyncio.timeout(5):
            async for _ in ws.incoming():
                pass
        assert (ws.close_code, ws.close_reason) == (4001, "Session has ended")
        with pytest.raises(ConnectionError):
            await ws.send_text("too late")
    await client.close()


# A WebSocket peer of our own, on a loopback port, for what granian does not send.


def server_frame(opcode: int, payload: bytes, *, final: bool = True) -> bytes:
    first = (0x80 if final else 0) | opcode
    if len(payload) < 126:
        return struct.pack("!BB", first, len(payload)) + payload
    if len(payload) < 1 << 16:
        return struct.pack("!BBH", first, 126, len(payload)) + payload
    return struct.pack("!BBQ", first, 127, len(payload)) + payload


async def client_frame(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    first, second = await reader.readexactly(2)
    assert second & 0x80, "a client's frames must be masked"
    length = second & 0x7F
    if length == 126:
        (length,) = struct.unpack("!H", await reader.readexactly(2))
    elif length == 127:
        (length,) = struct.unpack("!Q", await reader.readexactly(8))
    mask = await reader.readexactly(4)
    masked = await reader.readexactly(length)
    return first & 0x0F, bytes(b ^ mask[i % 4] for i, b in enumerate(masked))


@contextlib.asynccontextmanager
async def websocket_peer(
    frames: bytes, *, quiet_seconds: float = 0.0
) -> AsyncIterator[tuple[str, list[tuple[int, bytes]]]]:
    """A WebSocket peer on a loopback port: it answers the upgrade and sends `frames` in the
    same write, stays quiet for `quiet_seconds`, then closes with 4321 "bye"; it records the
    client's frames until the client's close."""
    received: list[tuple[int, bytes]] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        key = next(
            line.split(b":", 1)[1].strip().decode()
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"sec-websocket-key:")
        )
        answer = (
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Accept: {accept_key(key)}\r\n\r\n"
        ).encode()
        writer.write(answer + frames)
        await asyncio.sleep(quiet_seconds)
        writer.write(server_frame(0x8, struct.pack("!H", 4321) + b"bye"))
        await writer.drain()
        while True:
            opcode, payload = await client_frame(reader)
            received.append((opcode, payload))
            if opcode == 0x8:
                break
        writer.close()

    listener = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    async with listener:
        yield f"http://127.0.0.1:{port}", received


async def read_all(url: str, *, ping_interval: float = 20.0) -> tuple[list[str], bytes, int]:
    """What a client reads from the peer at `url`, slowly: text messages, the binary bytes,
    and the largest binary piece handed over."""
    api = ApiSession(url, tokens=Tokens("token", "token", 0))
    texts: list[str] = []
    data = bytearray()
    largest = 0
    try:
        async with open_websocket(api, "/any", ping_interval=ping_interval) as ws:
            async with asyncio.timeout(10):
                async for item in ws.incoming():
                    if isinstance(item, str):
                        texts.append(item)
                    else:
                        data += item
                        largest = max(largest, len(item))
                        await asyncio.sleep(0.01)  # a slow reader: the buffers fill up
            assert (ws.close_code, ws.close_reason) == (4321, "bye")
    finally:
        await api.close()
    return texts, bytes(data), largest


async def test_pings_fragments_and_large_messages_from_any_peer() -> None:
    """A ping, a text message in three fragments (split inside a character), and a binary
    message of 2.5 buffers in frames that straddle them, with a control frame between
    fragments, all in the write that carries the upgrade's answer."""
    blob = os.urandom(BUFFER_SIZE * 5 // 2)
    text = "fragmented text ✓".encode()
    third = len(blob) // 3
    frames = (
        server_frame(0x9, b"are you there")
        + server_frame(0x1, text[:5], final=False)
        + server_frame(0x0, text[5:-1], final=False)  # splits the last character
        + server_frame(0x0, text[-1:])
        + server_frame(0x2, blob[:third], final=False)
        + server_frame(0xA, b"unasked pong")  # control frames may come between fragments
        + server_frame(0x0, blob[third : 2 * third], final=False)
        + server_frame(0x0, blob[2 * third :])
    )
    async with websocket_peer(frames) as (url, received):
        texts, data, largest = await read_all(url)
    assert texts == ["fragmented text ✓"]
    assert data == blob
    assert largest <= BUFFER_SIZE  # received into the reused buffers
    assert received[0] == (0xA, b"are you there")  # the ping answered
    assert received[-1] == (0x8, struct.pack("!H", 4321))  # the close echoed


async def test_a_quiet_socket_is_kept_alive_with_pings() -> None:
    async with websocket_peer(b"", quiet_seconds=0.5) as (url, received):
        await read_all(url, ping_interval=0.1)
    pings = [frame for frame in received if frame == (0x9, b"")]
    assert len(pings) >= 3, received
