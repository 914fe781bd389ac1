"""How the download port sends a span of a file (`download_port.sending.SpanSender`), on real
loopback sockets and a real file: a large span on a thread of its own with blocking
`sendfile`, small spans and spans past the free threads from the event loop, the same bytes
either way; a client that takes nothing is let go on both ways; a cancelled send (the server
stopping) hangs up and is over at once."""

import asyncio
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from hypersend.download_port.sending import THREAD_SPAN_BYTES, SpanSender
from tests.support.files import random_file

SIZE = 2 * THREAD_SPAN_BYTES + 12345
SMALL_BUFFER = 64 * 1024


@pytest.fixture
def data_file(tmp_path: Path) -> Path:
    return random_file(tmp_path / "movie.mkv", SIZE)


@asynccontextmanager
async def connection(
    *, small_buffers: bool = False
) -> AsyncIterator[tuple[socket.socket, socket.socket]]:
    """The server's end (non-blocking, as the port's loop holds it) and the client's."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        client = socket.socket()
        if small_buffers:  # so that a client that reads nothing stalls the sender soon
            client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, SMALL_BUFFER)
        client.connect(listener.getsockname())
        server, _ = listener.accept()
    if small_buffers:
        server.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SMALL_BUFFER)
    server.setblocking(False)
    with server, client:
        yield server, client


def received(client: socket.socket, count: int) -> bytes:
    got = bytearray()
    while len(got) < count:
        piece = client.recv(1024 * 1024)
        assert piece, "the sender hung up early"
        got += piece
    return bytes(got)


def sent_by_a_thread(server: socket.socket) -> bool:
    """Only a thread's socket is given a send timeout (`SO_SNDTIMEO`)."""
    return server.getsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, 16) != bytes(16)


async def test_spans_come_whole_by_a_thread_and_from_the_loop(data_file: Path) -> None:
    data = data_file.read_bytes()
    spans = SpanSender(threads=1)
    with data_file.open("rb") as file:
        async with (
            connection() as (first, first_client),
            connection() as (
                second,
                second_client,
            ),
            connection() as (small, small_client),
        ):
            sending = [
                spans.send(first, file.fileno(), 1, SIZE - 1),  # takes the one thread
                spans.send(second, file.fileno(), 0, SIZE),  # every thread busy: the loop
                spans.send(small, file.fileno(), 5, 100),  # too small for a thread
            ]
            got = await asyncio.gather(
                asyncio.to_thread(received, first_client, SIZE - 1),
                asyncio.to_thread(received, second_client, SIZE),
                asyncio.to_thread(received, small_client, 100),
                *sending,
            )
            assert got[:3] == [data[1:], data, data[5:105]]
            assert [sent_by_a_thread(end) for end in (first, second, small)] == [
                True,
                False,
                False,
            ]
            assert not first.getblocking()  # given back to the loop as it was


async def test_a_client_that_takes_nothing_is_let_go_either_way(data_file: Path) -> None:
    spans = SpanSender(threads=1, stall_timeout=0.5)
    with data_file.open("rb") as file:
        async with (
            connection(small_buffers=True) as (first, _),
            connection(small_buffers=True) as (second, _),
        ):
            started = time.monotonic()
            outcomes = await asyncio.gather(
                spans.send(first, file.fileno(), 0, SIZE),
                spans.send(second, file.fileno(), 0, SIZE),
                return_exceptions=True,
            )
    assert [type(outcome) for outcome in outcomes] == [TimeoutError, TimeoutError]
    assert time.monotonic() - started < 10


async def test_a_cancelled_send_hangs_up_and_ends_at_once(data_file: Path) -> None:
    spans = SpanSender(threads=1)  # a stall would take a minute
    with data_file.open("rb") as file:
        async with connection(small_buffers=True) as (server, client):
            sending = asyncio.create_task(spans.send(server, file.fileno(), 0, SIZE))
            await asyncio.sleep(0.3)  # the thread is blocked in sendfile: nothing is read
            stopping = time.monotonic()
            sending.cancel()
            with pytest.raises(asyncio.CancelledError):
                await sending
            assert time.monotonic() - stopping < 5
            client.settimeout(5)
            while client.recv(1024 * 1024):  # what was in flight, then the end
                pass
