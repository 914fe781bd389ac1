"""A forward HTTP proxy on a free loopback port, as a company network puts in front of its
clients: CONNECT tunnels, and absolute-form requests passed on to the server they name. It
counts the bytes it carries each way, by kind, so a test sees what went through it."""

import asyncio
import contextlib
from collections import Counter
from urllib.parse import urlsplit

from tests.support.tcp_proxy import LoopbackListener


class HttpProxy(LoopbackListener):
    def __init__(self) -> None:
        super().__init__()
        self.carried: Counter[str] = Counter()  # "tunnel up", "tunnel down", "forward up", ...

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            writer.close()
            return
        method, target, _ = head.split(b"\r\n", 1)[0].decode("latin-1").split(" ", 2)
        if method == "CONNECT":
            host, _, port = target.rpartition(":")
            kind, first = "tunnel", b""
        else:
            parts = urlsplit(target)
            host, port, kind, first = parts.hostname or "", str(parts.port or 80), "forward", head
        try:
            up_reader, up_writer = await asyncio.open_connection(host, int(port))
        except OSError:
            writer.write(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
            writer.close()
            return
        self._connections.update((writer, up_writer))
        if method == "CONNECT":
            writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        else:
            up_writer.write(first)
            self.carried[f"{kind} up"] += len(first)
        await asyncio.gather(
            self._pipe(reader, up_writer, f"{kind} up"),
            self._pipe(up_reader, writer, f"{kind} down"),
        )

    async def _pipe(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, counter: str
    ) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            while data := await reader.read(256 * 1024):
                self.carried[counter] += len(data)
                writer.write(data)
                await writer.drain()
        with contextlib.suppress(OSError):
            writer.close()
