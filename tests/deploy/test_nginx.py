"""The project's nginx configuration, run by Debian's nginx on loopback in front of two real
HyperSend nodes sharing one database, one files folder and Redis: TLS, unlimited streamed
uploads, ranged downloads, signed links and the WebSockets of events and the P2P relay, all
through `https://.../api`."""

import asyncio
import http.server
import ssl
import subprocess
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from hypersend.client import HyperSendClient
from tests.support.accounts import PASSWORD, unique_email
from tests.support.files import random_file
from tests.support.nginx import NginxProcess
from tests.support.redis import RedisProcess
from tests.support.server import ServerProcess, free_port
from tests.support.tus import node_upload

ROOT = Path(__file__).resolve().parents[2]
CHUNK_SIZE = 2 * 1024 * 1024  # over nginx's default 1 MiB body limit


@dataclass
class Front:
    node_url: str  # one HyperSend node itself, not through nginx
    http_url: str
    https_url: str
    tls: ssl.SSLContext
    ca_file: Path

    @property
    def api(self) -> str:
        return f"{self.https_url}/api"


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "fullchain.pem", folder / "privkey.pem"
    command = "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost"
    subprocess.run(
        [
            *command.split(),
            *("-keyout", str(key), "-out", str(cert)),
            *("-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def for_loopback(config: str, replacements: dict[str, str]) -> str:
    """The deploy config with its addresses and paths swapped for the test's."""
    for original, replacement in replacements.items():
        assert original in config, f"deploy/nginx.conf no longer has {original!r}"
        config = config.replace(original, replacement)
    return "\n".join(line for line in config.splitlines() if "[::]" not in line)


class AppStandIn(http.server.BaseHTTPRequestHandler):
    """Where the Flet app would be: answers every GET with a marker."""

    def do_GET(self) -> None:
        body = b"the app"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def front(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Front]:
    folder = tmp_path_factory.mktemp("nginx")
    https_port, http_port = free_port(), free_port()
    redis = RedisProcess(folder / "redis").start()
    environment = {
        "CHUNK_SIZE": str(CHUNK_SIZE),
        "PUBLIC_URL": f"https://127.0.0.1:{https_port}/api",
        "REDIS_URL": redis.url,
        "ACCEL_REDIRECT_PREFIX": "/_hypersend_files/",
    }
    servers = [  # two nodes on one database and one files volume, as the Compose file runs
        ServerProcess(folder / "data", environment, name=f"node{n}").launch() for n in (1, 2)
    ]
    for server in servers:
        server.wait_until_healthy()
    app = http.server.ThreadingHTTPServer(("127.0.0.1", 0), AppStandIn)
    threading.Thread(target=app.serve_forever, daemon=True).start()
    cert, key = self_signed_certificate(folder)
    site = for_loopback(
        (ROOT / "deploy" / "nginx.conf").read_text(),
        {
            "server server-1:8000;": f"server 127.0.0.1:{servers[0].port};",
            "server server-2:8000;": f"server 127.0.0.1:{servers[1].port};",
            "server app:8550;": f"server 127.0.0.1:{app.server_address[1]};",
            "listen 80;": f"listen 127.0.0.1:{http_port};",
            "listen 443 ssl http2;": f"listen 127.0.0.1:{https_port} ssl http2;",
            "/etc/nginx/certs/fullchain.pem": str(cert),
            "/etc/nginx/certs/privkey.pem": str(key),
            "alias /data/files/;": f"alias {folder / 'data' / 'files'}/;",
        },
    )
    nginx = NginxProcess(folder / "nginx", site, [http_port, https_port])
    nginx.check()
    nginx.start()
    try:
        yield Front(
            http_url=f"http://127.0.0.1:{http_port}",
            https_url=f"https://127.0.0.1:{https_port}",
            tls=ssl.create_default_context(cafile=str(cert)),
            ca_file=cert,
            node_url=servers[0].url,
        )
    finally:
        nginx.stop()
        app.shutdown()
        for server in servers:
            server.stop()
        redis.stop()


async def _signed_in(front: Front, name: str) -> HyperSendClient:
    client = HyperSendClient(front.api, ssl_context=front.tls)
    email = unique_email(name.lower())
    await client.register(email, PASSWORD, name)
    await client.login(email, PASSWORD)
    return client


@pytest.fixture
async def ann(front: Front) -> AsyncIterator[HyperSendClient]:
    client = await _signed_in(front, "Ann")
    yield client
    await client.close()


@pytest.fixture
async def ben(front: Front) -> AsyncIterator[HyperSendClient]:
    client = await _signed_in(front, "Ben")
    yield client
    await client.close()


async def test_plain_http_redirects_to_https_and_the_app_is_at_the_root(front: Front) -> None:
    async with httpx.AsyncClient(verify=front.tls) as http:
        redirect = await http.get(f"{front.http_url}/chats/")
        assert redirect.status_code == 301
        assert redirect.headers["location"].startswith("https://")
        assert (await http.get(f"{front.https_url}/")).text == "the app"
        health = await http.get(f"{front.api}/health")
        assert health.status_code == 200
        assert health.headers["strict-transport-security"]


async def test_a_multi_chunk_upload_and_ranged_downloads_through_nginx(
    front: Front, ann: HyperSendClient, tmp_path: Path
) -> None:
    source = random_file(tmp_path / "big.bin", 3 * CHUNK_SIZE + 12345)
    info = await ann.upload_file(source, parallel=3)
    assert info.total_chunks == 4
    copy = tmp_path / "copy.bin"
    await ann.download_file(info.file_id, copy)
    assert copy.read_bytes() == source.read_bytes()

    data = source.read_bytes()
    async with httpx.AsyncClient(verify=front.tls) as http:
        headers = {**ann.api.auth_headers(), "Range": "bytes=1000-2999"}
        ranged = await http.get(f"{front.api}/files/download/{info.file_id}", headers=headers)
        assert ranged.status_code == 206
        assert ranged.content == data[1000:3000]
        link = await ann.download_link(info.file_id)
        assert link.startswith(f"{front.api}/")
        tail = await http.get(link, headers={"Range": "bytes=-100"})
        assert tail.status_code == 206
        assert tail.content == data[-100:]


async def test_tus_js_client_uploads_through_nginx_in_patches_both_nodes_take(
    front: Front, ann: HyperSendClient, tmp_path: Path
) -> None:
    """nginx hands the PATCHes to both nodes in turn: the offset, the staged bytes of a chunk
    and the chunks themselves live in the shared database and files, not in a process."""
    source = random_file(tmp_path / "through nginx.bin", 3 * CHUNK_SIZE + 4321)
    result = await asyncio.to_thread(
        node_upload,
        front.api,
        ann,
        source,
        chunk_size=CHUNK_SIZE // 3 + 1,
        environment={"NODE_EXTRA_CA_CERTS": str(front.ca_file)},
    )
    assert result.get("url", "").startswith(f"{front.api}/files/tus/"), result
    file_id = result["url"].rsplit("/", 1)[-1]
    copy = tmp_path / "copy.bin"
    await ann.download_file(file_id, copy)
    assert copy.read_bytes() == source.read_bytes()


async def test_events_and_the_p2p_relay_go_through_nginx_websockets(
    ann: HyperSendClient, ben: HyperSendClient, tmp_path: Path
) -> None:
    ben_id = (await ben.me()).id
    chat = await ann.open_direct_chat(ben_id)
    async with await ben.connect_events() as events:
        await ann.send_message(chat.id, "through the proxy")
        event = await asyncio.wait_for(events.next(), 10)
        while event["type"] != "message.created":
            event = await asyncio.wait_for(events.next(), 10)
        assert event["message"]["text"] == "through the proxy"

    source = random_file(tmp_path / "direct.bin", 3 * 1024 * 1024)
    offer = await ann.offer_transfer(ben_id, source)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    received, _ = await asyncio.gather(
        ben.receive_transfer(offer["transfer_id"], inbox),
        ann.send_transfer(offer["transfer_id"], source),
    )
    assert received.read_bytes() == source.read_bytes()


async def test_nginx_sends_download_bytes_after_hypersend_says_yes(
    front: Front, ann: HyperSendClient, ben: HyperSendClient, tmp_path: Path
) -> None:
    source = random_file(tmp_path / "Résumé.pdf", 3 * CHUNK_SIZE + 777)
    data = source.read_bytes()
    info = await ann.upload_file(source, parallel=2)
    url = f"{front.api}/files/download/{info.file_id}"
    auth = ann.api.auth_headers()
    async with (
        httpx.AsyncClient(verify=front.tls) as proxied,
        httpx.AsyncClient(base_url=front.node_url) as direct,
    ):
        redirected = await direct.get(f"/files/download/{info.file_id}", headers=auth)
        assert redirected.headers["x-accel-redirect"].startswith("/_hypersend_files/")
        assert redirected.content == b""  # the app sends no byte of the file

        whole = await proxied.get(url, headers=auth)
        assert whole.status_code == 200
        assert whole.content == data
        assert whole.headers["etag"] == f'"{info.content_hash}"'
        assert whole.headers["content-type"] == "application/pdf"
        assert whole.headers["content-disposition"] == (
            "attachment; filename=\"Resume.pdf\"; filename*=UTF-8''R%C3%A9sum%C3%A9.pdf"
        )
        assert "x-accel-redirect" not in whole.headers
        for header, expected in (
            ("bytes=0-99", data[:100]),
            ("bytes=100-", data[100:]),
            ("bytes=-300", data[-300:]),
        ):
            part = await proxied.get(url, headers={**auth, "Range": header})
            assert part.status_code == 206, header
            assert part.content == expected
            assert part.headers["content-range"].endswith(f"/{len(data)}")
        matching = {**auth, "Range": "bytes=5-9", "If-Range": whole.headers["etag"]}
        assert (await proxied.get(url, headers=matching)).content == data[5:10]
        stale = {**auth, "Range": "bytes=5-9", "If-Range": '"another version"'}
        changed = await proxied.get(url, headers=stale)
        assert (changed.status_code, changed.content) == (200, data)

        link = await ann.download_link(info.file_id)
        assert (await proxied.get(link, headers={"Range": "bytes=-10"})).content == data[-10:]
        tampered = link.replace("sig=", "sig=0")
        assert (await proxied.get(tampered)).status_code in (403, 404)
        stranger = await proxied.get(url, headers=ben.api.auth_headers())
        assert stranger.status_code == 404
        location = redirected.headers["x-accel-redirect"]
        from_outside = await proxied.get(f"{front.https_url}{location}")
        assert from_outside.status_code == 404
        assert from_outside.content != data
