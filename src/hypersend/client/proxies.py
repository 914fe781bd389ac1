"""The proxy a connection of the raw byte paths goes through, chosen as httpx (JSON) and
websockets (`/ws`) choose theirs: `HTTPS_PROXY` for an https:// server, `HTTP_PROXY` for an
http:// one, else `ALL_PROXY`, unless `NO_PROXY` names the host. The bytes then go through a
CONNECT tunnel (TLS to the server inside it for https://), so the proxy sees only what it
forwards. Only http:// proxies are spoken; any other kind is refused with a clear message
rather than bypassed."""

import asyncio
import base64
import socket
import urllib.request
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from hypersend.client.errors import ServerUnreachable

MAX_ANSWER_HEAD = 16 * 1024


@dataclass(frozen=True, slots=True)
class Proxy:
    host: str
    port: int
    credentials: str | None = None  # "user:password", for Proxy-Authorization

    def __str__(self) -> str:
        return f"http://{self.host}:{self.port}"


def proxy_for(server_url: str) -> Proxy | None:
    """The proxy that the environment names for `server_url`, if any."""
    parts = urlsplit(server_url)
    proxies = urllib.request.getproxies()
    if not proxies or urllib.request.proxy_bypass(parts.hostname or ""):
        return None
    named = proxies.get(parts.scheme) or proxies.get("all")
    if not named:
        return None
    proxy = urlsplit(named if "://" in named else f"http://{named}")
    if proxy.scheme != "http" or not proxy.hostname:
        raise ServerUnreachable(
            f"The proxy {named} is not an http:// proxy: file transfers go only through"
            " http:// proxies (or set NO_PROXY for this server)"
        )
    credentials = None
    if proxy.username is not None:
        credentials = f"{unquote(proxy.username)}:{unquote(proxy.password or '')}"
    return Proxy(proxy.hostname, proxy.port or 80, credentials)


async def tunnel(proxy: Proxy, host: str, port: int) -> socket.socket:
    """A socket connected to `host:port` through the proxy (CONNECT), ready for TLS or HTTP."""
    loop = asyncio.get_running_loop()
    (family, kind, protocol, _, address), *_ = await loop.getaddrinfo(
        proxy.host, proxy.port, type=socket.SOCK_STREAM
    )
    sock = socket.socket(family, kind, protocol)
    sock.setblocking(False)
    try:
        await loop.sock_connect(sock, address)
        lines = [f"CONNECT {host}:{port} HTTP/1.1", f"Host: {host}:{port}"]
        if proxy.credentials is not None:
            token = base64.b64encode(proxy.credentials.encode()).decode()
            lines.append(f"Proxy-Authorization: Basic {token}")
        await loop.sock_sendall(sock, ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        head = b""
        while b"\r\n\r\n" not in head:
            received = await loop.sock_recv(sock, 4096)
            if not received or len(head) > MAX_ANSWER_HEAD:
                raise ConnectionError(f"the proxy {proxy} ended the CONNECT answer early")
            head += received
        status_line = head.split(b"\r\n", 1)[0].decode("latin-1")
        if status_line.split(" ")[1:2] != ["200"]:
            raise ServerUnreachable(
                f"The proxy {proxy} refused to connect to {host}:{port}: {status_line}"
            )
    except BaseException:
        sock.close()
        raise
    return sock
