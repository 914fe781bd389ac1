"""The client WebSocket the P2P relay's ends use, over real connections: against the server's
own WebSockets, and against a small WebSocket peer that sends what granian never does
(pings, fragmented messages, binary messages larger than the client's buffers)."""

import asyncio
import json
import os
import struct
from collections.abc import AsyncIterator

import pytest
from websockets.utils import accept_key

from hypersend.client import HyperSendClient, Tokens
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
        with pytest.raises(HandshakeRefused) as refused:
            async with open_websocket(api, "/p2p/transfers/nope/send"):
                pass
        assert refused.value.status == 403
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


@pytest.fixture
async def peer_url() -> AsyncIterator[tuple[str, list[tuple[int, bytes]], bytes]]:
    """A peer that answers the upgrade, then (in the same write as the answer) a ping, a text
    message in three fragments, a binary message of 2.5 buffers in frames that straddle
    them, and a close; it records the client's frames."""
    blob = os.urandom(BUFFER_SIZE * 5 // 2)
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
        third = len(blob) // 3
        text = "fragmented text ✓".encode()
        writer.write(
            answer
            + server_frame(0x9, b"are you there")
            + server_frame(0x1, text[:5], final=False)
            + server_frame(0x0, text[5:-1], final=False)  # splits the last character
            + server_frame(0x0, text[-1:])
            + server_frame(0x2, blob[:third], final=False)
            + server_frame(0xA, b"unasked pong")  # control frames may come between fragments
            + server_frame(0x0, blob[third : 2 * third], final=False)
            + server_frame(0x0, blob[2 * third :])
            + server_frame(0x8, struct.pack("!H", 4321) + b"bye")
        )
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
        yield f"http://127.0.0.1:{port}", received, blob


async def test_pings_fragments_and_large_messages_from_any_peer(
    peer_url: tuple[str, list[tuple[int, bytes]], bytes],
) -> None:
    url, received, blob = peer_url
    api = ApiSession(url, tokens=Tokens("token", "token", 0))
    got_text: list[str] = []
    got_bytes = bytearray()
    largest_piece = 0
    try:
        async with open_websocket(api, "/any") as ws:
            async with asyncio.timeout(10):
                async for item in ws.incoming():
                    if isinstance(item, str):
                        got_text.append(item)
                    else:
                        got_bytes += item
                        largest_piece = max(largest_piece, len(item))
                        await asyncio.sleep(0.01)  # a slow reader: the buffers fill up
            assert (ws.close_code, ws.close_reason) == (4321, "bye")
    finally:
        await api.close()
    assert got_text == ["fragmented text ✓"]
    assert bytes(got_bytes) == blob
    assert largest_piece <= BUFFER_SIZE  # received into the reused buffers
    assert received[0] == (0xA, b"are you there")  # the ping answered
    assert received[-1] == (0x8, struct.pack("!H", 4321))  # the close echoed
