"""A TCP forwarder on a free loopback port, for a service that goes away and comes back with
its state (a bucket's endpoint restarting, say): `stop()` closes the port and cuts every
connection; `start()` opens the same port again. `cut_after(n)` cuts the connections once,
when `n` more bytes went towards the service (a link that drops mid-upload). `sent_upstream`
keeps the first bytes that went towards the service (what a client said to it)."""

import asyncio
import contextlib
from collections.abc import Callable
from typing import Self

from tests.support.server import free_port

KEPT_UPSTREAM_BYTES = 64 * 1024


class LoopbackListener:
    """A listening port on loopback whose connections `stop()` cuts; subclasses `_serve`."""

    def __init__(self) -> None:
        self.port = free_port()
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.StreamWriter] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> Self:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for writer in list(self._connections):
                writer.transport.abort()
            await self._server.wait_closed()
            self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        raise NotImplementedError


class TcpProxy(LoopbackListener):
    def __init__(self, target_port: int) -> None:
        super().__init__()
        self.target_port = target_port
        self._cut_in: int | None = None
        self.cuts = 0
        self.sent_upstream = bytearray()

    def cut_after(self, upstream_bytes: int) -> None:
        self._cut_in = upstream_bytes

    def _count_upstream(self, data: bytes) -> None:
        if len(self.sent_upstream) < KEPT_UPSTREAM_BYTES:
            self.sent_upstream += data[: KEPT_UPSTREAM_BYTES - len(self.sent_upstream)]
        if self._cut_in is None:
            return
        self._cut_in -= len(data)
        if self._cut_in <= 0:
            self._cut_in = None
            self.cuts += 1
            for writer in list(self._connections):
                writer.transport.abort()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.transport.abort()
            return
        self._connections.update((writer, up_writer))
        try:
            await asyncio.gather(
                _pipe(reader, up_writer, self._count_upstream), _pipe(up_reader, writer)
            )
        finally:
            for end in (writer, up_writer):
                self._connections.discard(end)
                end.transport.abort()


async def _pipe(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    seen: Callable[[bytes], None] = lambda data: None,
) -> None:
    with contextlib.suppress(OSError, asyncio.IncompleteReadError):
        while data := await reader.read(256 * 1024):
            seen(data)
            writer.write(data)
            await writer.drain()
    with contextlib.suppress(OSError):
        writer.write_eof()
