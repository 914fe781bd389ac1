"""File bytes on HTTP/1.1 connections of their own, without httpx's per-read overhead.

Uploads: a chunk's bytes go from the file to the socket with `sendfile` (no copy through
Python; over TLS asyncio falls back to copying large pieces), one keep-alive connection per
parallel stream. Downloads: the body is received straight into a few reused 1 MiB
buffers (`response_stream.py`). Measured (bench/README.md): client CPU per 2 GiB 3.5 s ->
1.9 s uploading, most of what is left being the SHA-256 it must compute.
Everything else the client says still goes through httpx (`ApiSession`). Both honour the
same proxy settings (`proxies.py`).
"""

import asyncio
import contextlib
import json
import ssl
from collections.abc import AsyncIterator, Callable
from typing import Any, BinaryIO, TypeVar
from urllib.parse import urlencode, urljoin, urlsplit

from hypersend.client.buffered_receiver import parse_head
from hypersend.client.errors import ServerUnreachable, error_for
from hypersend.client.http import ApiSession
from hypersend.client.proxies import proxy_for, tunnel
from hypersend.client.response_stream import ResponseStream

CONNECT_TIMEOUT = 10.0
RESPONSE_TIMEOUT = 120.0
SEND_TIMEOUT = 60.0
SLOWEST_BYTES_PER_SECOND = 16 * 1024  # slower than this for a whole chunk: give up, retry
STREAM_LIMIT = 1024 * 1024  # buffered reading (and the longest answer head accepted)
REDIRECTS = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 3

P = TypeVar("P", bound=asyncio.BaseProtocol)


class RawResponse:
    """A response whose body is still on the wire: read it with `pieces()`."""

    def __init__(self, status: int, headers: dict[str, str], stream: ResponseStream):
        self.status = status
        self.headers = headers
        self._stream = stream

    async def pieces(self) -> AsyncIterator[memoryview]:
        """The body in pieces of up to 1 MiB, each valid only until the next is asked for
        (they are received into a few reused buffers). Bodies must say their length (file
        responses always do)."""
        if "content-length" not in self.headers:
            raise ServerUnreachable("The server did not say how long the file's body is")
        self._stream.start_body(int(self.headers["content-length"]))
        try:
            async for piece in self._stream.pieces(stall_seconds=RESPONSE_TIMEOUT):
                yield piece
        except (ConnectionError, TimeoutError) as exc:
            raise ServerUnreachable(f"Download interrupted: {exc}") from exc


class RawConnection:
    """A keep-alive connection that PUTs file ranges and GETs files; reconnects when the
    server closes it."""

    def __init__(self, api: ApiSession, origin: str | None = None) -> None:
        """A connection to the API's server, or to another `origin` (`scheme://host:port`,
        where a download was redirected, or the upload port), which is never sent the API's
        token."""
        self._api = api
        url = urlsplit(origin or api.base_url)
        self._tls = url.scheme == "https"
        self._host = url.hostname or "localhost"
        self._port = url.port or (443 if self._tls else 80)
        self._host_header = url.netloc
        self._proxy = proxy_for(origin or api.base_url)
        self._prefix = url.path.rstrip("/")
        self._signs_in = origin is None
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def put(
        self,
        path: str,
        params: dict[str, Any],
        source: BinaryIO,
        offset: int,
        length: int,
        headers: dict[str, str],
    ) -> Any:
        """PUT `length` bytes of `source` from `offset`; the JSON answer, or a typed error.
        To the API, an expired token is refreshed once (`ApiSession.with_token`); another
        origin (the upload port) is sent no token, its URL carries a grant."""

        async def send() -> Any:
            signed_in = self._api.auth_headers() if self._signs_in else {}
            all_headers = headers | signed_in
            status, response_headers, body = await self._exchange(
                f"{self.target(path)}?{urlencode(params)}", source, offset, length, all_headers
            )
            data = _json_or_text(body)
            if status >= 400:
                raise error_for(status, data, response_headers)
            return data

        return await self._api.with_token(send) if self._signs_in else await send()

    @contextlib.asynccontextmanager
    async def get(self, path: str, headers: dict[str, str]) -> AsyncIterator[RawResponse]:
        """GET `path` signed in, on a connection of its own; yields the response with its
        body still to read. Error answers (4xx, 5xx) raise a typed error. A redirect (to the
        server's download port, or a bucket) is followed, without the token."""
        async with self._get(self.target(path), headers, MAX_REDIRECTS) as response:
            yield response

    @contextlib.asynccontextmanager
    async def _get(
        self, target: str, headers: dict[str, str], redirects_left: int
    ) -> AsyncIterator[RawResponse]:
        stream: ResponseStream | None = None
        try:
            stream = await self.open(ResponseStream)
            signed_in = self._api.auth_headers() if self._signs_in else {}
            request_headers = headers | signed_in | {"Connection": "close"}
            stream.send(self.request_head("GET", target, request_headers))
            async with asyncio.timeout(RESPONSE_TIMEOUT):
                status, response_headers = await stream.head()
                if status >= 400:
                    body = await _small_body(stream, response_headers)
        except (OSError, EOFError, TimeoutError, ValueError, asyncio.LimitOverrunError) as exc:
            if stream is not None:
                stream.close()
            raise ServerUnreachable(f"{self._api.base_url}: download failed: {exc}") from exc
        try:
            if status >= 400:
                raise error_for(status, _json_or_text(body), response_headers)
            if 300 <= status < 400:
                stream.close()
                location = response_headers.get("location")
                if status not in REDIRECTS or not location or not redirects_left:
                    raise ServerUnreachable(f"{self._api.base_url}: download redirected astray")
                elsewhere, there = self._redirected(target, location)
                async with elsewhere._get(there, headers, redirects_left - 1) as response:
                    yield response
                return
            yield RawResponse(status, response_headers, stream)
        finally:
            stream.close()

    def _redirected(self, target: str, location: str) -> tuple["RawConnection", str]:
        """The connection and request target that a redirect from `target` points to."""
        scheme = "https" if self._tls else "http"
        url = urlsplit(urljoin(f"{scheme}://{self._host_header}{target}", location))
        there = f"{url.path or '/'}{'?' if url.query else ''}{url.query}"
        if self._signs_in and (url.scheme, url.netloc) == (scheme, self._host_header):
            return RawConnection(self._api), there
        return RawConnection(self._api, f"{url.scheme}://{url.netloc}"), there

    async def open(self, protocol: Callable[[], P]) -> P:
        """A new connection of its own to the server, driven by `protocol` (a download's
        response stream, a WebSocket)."""
        async with asyncio.timeout(CONNECT_TIMEOUT):
            _, opened = await asyncio.get_running_loop().create_connection(
                protocol, **await self._endpoint()
            )
        return opened

    def target(self, path: str) -> str:
        """The request target of an API path (behind the server URL's own path, if any)."""
        return f"{self._prefix}{path}"

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._reader = self._writer = None

    async def _exchange(
        self, target: str, source: BinaryIO, offset: int, length: int, headers: dict[str, str]
    ) -> tuple[int, dict[str, str], bytes]:
        """One request and its answer. A kept-alive connection that the server has closed in
        the meantime is replaced at once; any other failure is `ServerUnreachable`."""
        reused = self._writer is not None and not self._writer.is_closing()
        try:
            return await self._send(target, source, offset, length, headers)
        except (OSError, EOFError, TimeoutError, ValueError, asyncio.LimitOverrunError) as exc:
            await self.close()
            if reused:
                with contextlib.suppress(ServerUnreachable):
                    return await self._exchange(target, source, offset, length, headers)
            raise ServerUnreachable(f"{self._api.base_url}: chunk upload failed: {exc}") from exc

    async def _send(
        self, target: str, source: BinaryIO, offset: int, length: int, headers: dict[str, str]
    ) -> tuple[int, dict[str, str], bytes]:
        reader, writer = await self._connected()
        writer.write(self.request_head("PUT", target, headers | {"Content-Length": str(length)}))
        sent_all = False
        # A server may answer before reading the body (401, 413) and close the connection
        # ("Transport is closing" when that happened first): then read what it said.
        with contextlib.suppress(ConnectionError, RuntimeError):
            async with asyncio.timeout(SEND_TIMEOUT + length / SLOWEST_BYTES_PER_SECOND):
                await asyncio.get_running_loop().sendfile(writer.transport, source, offset, length)
            sent_all = True
        async with asyncio.timeout(RESPONSE_TIMEOUT):
            answer = await self._response(reader)
        if not sent_all:  # the request was cut short: this connection is done
            await self.close()
        return answer

    async def _connected(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self._reader is None or self._writer is None or self._writer.is_closing():
            async with asyncio.timeout(CONNECT_TIMEOUT):
                self._reader, self._writer = await asyncio.open_connection(
                    limit=STREAM_LIMIT, **await self._endpoint()
                )
        return self._reader, self._writer

    async def _endpoint(self) -> dict[str, Any]:
        """Where a new connection goes (`asyncio`'s arguments): the server itself, or a
        tunnel to it through the proxy the environment names (`proxies.py`); with TLS to
        the server for https://."""
        if self._proxy is None:
            where: dict[str, Any] = {"host": self._host, "port": self._port}
        else:
            where = {"sock": await tunnel(self._proxy, self._host, self._port)}
        if self._tls:
            context = self._api.ssl_context or ssl.create_default_context()
            where |= {"ssl": context, "server_hostname": self._host}
        return where

    def request_head(self, method: str, target: str, headers: dict[str, str]) -> bytes:
        lines = [f"{method} {target} HTTP/1.1", f"Host: {self._host_header}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    async def _response(self, reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
        status, headers = parse_head((await reader.readuntil(b"\r\n\r\n"))[:-4])
        body = await _body(reader, headers)
        if headers.get("connection", "").lower() == "close":
            await self.close()
        return status, headers, body


async def _small_body(stream: ResponseStream, headers: dict[str, str]) -> bytes:
    """An error answer's body, read whole and decoded as `_body` does."""
    chunked = headers.get("transfer-encoding", "").lower() == "chunked"
    length = None if chunked else int(headers.get("content-length", "0"))
    reader = asyncio.StreamReader()
    reader.feed_data(await stream.small_body(length))
    reader.feed_eof()
    return await _body(reader, headers)


async def _body(reader: asyncio.StreamReader, headers: dict[str, str]) -> bytes:
    """A small whole body (an answer, an error): by its length, or chunked."""
    if headers.get("transfer-encoding", "").lower() == "chunked":
        return await _read_chunked(reader)
    return await reader.readexactly(int(headers.get("content-length", "0")))


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    parts = []
    while size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
        parts.append(await reader.readexactly(size))
        await reader.readexactly(2)
    while await reader.readuntil(b"\r\n") != b"\r\n":  # trailers
        pass
    return b"".join(parts)


def _json_or_text(body: bytes) -> Any:
    """The answer's JSON; a proxy's HTML error page becomes an error shape of our own."""
    if not body:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return {"detail": body.decode("utf-8", "replace")[:300], "code": "error"}
