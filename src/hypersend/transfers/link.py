"""Relay links: a P2P transfer's end piped from the process that holds the client's socket
to the process that relays the transfer.

A link is one TCP connection between two server processes. Frames are a kind byte (`B`
binary, `T` text, `C` close with a 2-byte code and a reason) and a 4-byte big-endian length,
then the payload. The linking process opens with a hello (a `T` frame: transfer, user, side,
offset and an expiry) signed with a key derived from `SECRET_KEY`, which every process of
one server shares; the relaying process then runs the end as if the client's socket were
its own. Each side reads a frame only when it can pass it on, so TCP carries backpressure
end to end; the relaying process holds no more than a relay always does.
"""

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import struct
import time
from collections.abc import Awaitable, Callable
from typing import Any

from hypersend.signatures import same_text
from hypersend.transfers.ends import RelayEnd
from hypersend.transfers.relay import MAX_FRAME

logger = logging.getLogger("hypersend.transfers")

HEADER = struct.Struct(">cI")
CLOSE_HEAD = struct.Struct(">H")
MAX_TEXT = 64 * 1024
HELLO_SECONDS = 30
CONNECT_TIMEOUT = 5.0
CLOSE_GOING_AWAY = 1001

ServeEnd = Callable[[RelayEnd, dict[str, Any]], Awaitable[None]]


class LinkEnd:
    """A relay end at one side of a link."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer
        self.close_code = CLOSE_GOING_AWAY
        self.close_reason = "relay link lost"
        self._closed = False

    async def receive(self) -> bytes | str | None:
        try:
            kind, length = HEADER.unpack(await self._reader.readexactly(HEADER.size))
            if length > (MAX_FRAME if kind == b"B" else MAX_TEXT):
                logger.warning("Relay link: a %r frame of %d bytes; closing", kind, length)
                return None
            payload = await self._reader.readexactly(length)
        except (asyncio.IncompleteReadError, OSError):
            return None
        if kind == b"B":
            return payload
        if kind == b"T":
            return payload.decode(errors="replace")
        if kind == b"C" and length >= CLOSE_HEAD.size:
            (self.close_code,) = CLOSE_HEAD.unpack_from(payload)
            self.close_reason = payload[CLOSE_HEAD.size :].decode(errors="replace")
        return None

    async def send_bytes(self, data: bytes) -> None:
        await self._send(b"B", data)

    async def send_text(self, text: str) -> None:
        await self._send(b"T", text.encode())

    async def close(self, code: int, reason: str) -> None:
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(OSError):
            await self._send(b"C", CLOSE_HEAD.pack(code) + reason.encode()[:120])
        self._writer.close()
        with contextlib.suppress(OSError):
            await self._writer.wait_closed()

    async def _send(self, kind: bytes, payload: bytes) -> None:
        self._writer.write(HEADER.pack(kind, len(payload)))
        self._writer.write(payload)
        await self._writer.drain()


class LinkSigner:
    def __init__(self, secret: str) -> None:
        self._key = hmac.new(secret.encode(), b"hypersend relay link", hashlib.sha256).digest()

    def sign(self, hello: dict[str, Any]) -> str:
        signed = {**hello, "expires": int(time.time()) + HELLO_SECONDS}
        return json.dumps({**signed, "signature": self._signature(signed)})

    def verify(self, text: str | bytes | None) -> dict[str, Any] | None:
        """The hello, if `text` is one this server signed and it has not expired."""
        if not isinstance(text, str):
            return None
        try:
            hello = json.loads(text)
            signature = hello.pop("signature")
        except (ValueError, KeyError, TypeError, AttributeError):
            return None
        if not same_text(str(signature), self._signature(hello)):
            return None
        if not isinstance(hello.get("expires"), int) or hello["expires"] < time.time():
            return None
        return dict(hello)

    def _signature(self, hello: dict[str, Any]) -> str:
        canonical = json.dumps(hello, sort_keys=True, separators=(",", ":")).encode()
        return hmac.new(self._key, canonical, hashlib.sha256).hexdigest()


class LinkClient:
    """The linking side: pipes a client's end to the relaying process."""

    def __init__(self, signer: LinkSigner) -> None:
        self._signer = signer

    async def pipe(self, address: str, hello: dict[str, Any], client: RelayEnd) -> bool:
        """Pipe `client` through a link until either side ends; False when the relaying
        process cannot be reached (nothing was sent to the client then)."""
        host, _, port = address.rpartition(":")
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(host.strip("[]"), int(port)), CONNECT_TIMEOUT
            )
        except (OSError, TimeoutError, ValueError) as exc:
            logger.warning("Relay link to %s failed: %r", address, exc)
            return False
        link = LinkEnd(reader, writer)
        await link.send_text(self._signer.sign(hello))
        upstream = asyncio.create_task(_forward_then_close(client, link))
        try:
            await _forward(link, client)
        finally:
            upstream.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await upstream
            await client.close(link.close_code, link.close_reason)
            await link.close(CLOSE_GOING_AWAY, "link closed")
        return True


class LinkServer:
    """The relaying side: accepts links and runs each as an end of its transfer."""

    def __init__(self, signer: LinkSigner) -> None:
        self._signer = signer
        self._serve: ServeEnd | None = None
        self._server: asyncio.Server | None = None
        self._links: set[asyncio.Task[None]] = set()

    async def start(self, host: str, serve: ServeEnd) -> str:
        """Listen on a free port of `host`, running each link's end with `serve`; return
        the address other processes dial."""
        self._serve = serve
        self._server = await asyncio.start_server(self._accept, host, 0)
        port = self._server.sockets[0].getsockname()[1]
        return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._links):
            task.cancel()
        await asyncio.gather(*self._links, return_exceptions=True)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._links.add(task)
        link = LinkEnd(reader, writer)
        try:
            try:
                hello = self._signer.verify(await asyncio.wait_for(link.receive(), HELLO_SECONDS))
            except TimeoutError:
                hello = None
            if hello is None or self._serve is None:
                await link.close(1008, "bad hello")
                return
            await self._serve(link, hello)
        finally:
            self._links.discard(task)
            await link.close(CLOSE_GOING_AWAY, "link closed")


async def _forward_then_close(client: RelayEnd, link: LinkEnd) -> None:
    """The client's frames go up the link; when the client leaves, so does the link."""
    with contextlib.suppress(OSError):
        await _forward(client, link)
    await link.close(CLOSE_GOING_AWAY, "the client left")


async def _forward(source: RelayEnd, target: RelayEnd) -> None:
    """Pass frames from `source` to `target` until `source` ends."""
    while (frame := await source.receive()) is not None:
        if isinstance(frame, bytes):
            await target.send_bytes(frame)
        else:
            await target.send_text(frame)
