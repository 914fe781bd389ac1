"""The download port (`DOWNLOAD_PORT`): the API checks, redirects with a signed grant, and a
listener of its own sends the bytes with sendfile. The Range forms, If-Range, signed links,
strangers and the client's resumed downloads run through it in `test_downloads.py`; here is
what is its own: the redirect, grants that were not signed or have expired, hostile requests,
its bounds, several nodes, and its process ending with the server's."""

import asyncio
import os
import re
import signal
import socket
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from hypersend.client import FileInfo, HyperSendClient
from hypersend.download_port.grants import DownloadGrant, GrantSigner
from hypersend.download_port.server import MAX_CONNECTIONS
from hypersend.http1 import HEAD_TIMEOUT, MAX_HEAD_BYTES
from tests.support.accounts import signed_in
from tests.support.files import random_file
from tests.support.raw_requests import exchange
from tests.support.server import TEST_CHUNK_SIZE, ServerProcess, free_port
from tests.support.tcp_proxy import TcpProxy

SIZE = 3 * TEST_CHUNK_SIZE + 123


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    data_root = tmp_path_factory.mktemp("download-port") / "data"
    process = ServerProcess(data_root, {"DOWNLOAD_PORT": str(free_port())}).start()
    yield process
    process.stop()


@pytest.fixture
async def ann(node: ServerProcess) -> AsyncIterator[HyperSendClient]:
    client = await signed_in(node.url, "Ann")
    yield client
    await client.close()


@pytest.fixture
async def shared(ann: HyperSendClient, tmp_path: Path) -> tuple[FileInfo, bytes]:
    source = random_file(tmp_path / "Ünïcode report.pdf", SIZE)
    return await ann.upload_file(source, parallel=2), source.read_bytes()


def download_port(node: ServerProcess) -> int:
    return int(node.env["DOWNLOAD_PORT"])


async def granted(ann: HyperSendClient, file_id: str) -> str:
    """Where the API's download route redirects `ann` (it answers no byte of the file)."""
    answer = await ann.api.http.get(f"/files/download/{file_id}", headers=ann.api.auth_headers())
    assert answer.status_code == 307
    assert answer.content == b""
    location: str = answer.headers["location"]
    return location


def signer_of(node: ServerProcess) -> GrantSigner:
    return GrantSigner((node.data_root / "secret_key").read_text().strip())


async def test_the_api_redirects_to_the_download_port_which_sends_the_bytes(
    node: ServerProcess, ann: HyperSendClient, shared: tuple[FileInfo, bytes]
) -> None:
    info, data = shared
    location = await granted(ann, info.file_id)
    url = urlsplit(location)
    assert (url.hostname, url.port) == ("127.0.0.1", download_port(node))
    assert url.path == f"/files/{info.file_id}/%C3%9Cn%C3%AFcode%20report.pdf"
    async with httpx.AsyncClient() as anonymous:  # one kept-alive connection for all
        whole = await anonymous.get(location)
        assert whole.status_code == 200
        assert whole.content == data
        assert whole.headers["etag"] == f'"{info.content_hash}"'
        assert whole.headers["content-type"] == "application/pdf"
        assert whole.headers["content-length"] == str(SIZE)
        assert whole.headers["content-disposition"] == (
            'attachment; filename="Unicode report.pdf";'
            " filename*=UTF-8''%C3%9Cn%C3%AFcode%20report.pdf"
        )
        head = await anonymous.head(location, headers={"Range": "bytes=-5"})
        assert head.status_code == 206
        assert head.headers["content-range"] == f"bytes {SIZE - 5}-{SIZE - 1}/{SIZE}"
        assert head.content == b""
        part = await anonymous.get(location, headers={"Range": "bytes=7-"})
        assert (part.status_code, part.content) == (206, data[7:])
        link = await ann.download_link(info.file_id)  # a signed link goes the same way
        by_link = await anonymous.get(link, follow_redirects=True)
        assert by_link.content == data
        assert by_link.url.port == download_port(node)


async def test_only_grants_the_server_signed_and_still_valid_are_served(
    node: ServerProcess, ann: HyperSendClient, shared: tuple[FileInfo, bytes]
) -> None:
    info, data = shared
    location = await granted(ann, info.file_id)
    url = urlsplit(location)
    query = dict(parse_qsl(url.query))
    base = f"http://127.0.0.1:{download_port(node)}"

    def changed(**fields: str) -> str:
        altered = "&".join(f"{name}={value}" for name, value in {**query, **fields}.items())
        return f"{base}{url.path}?{altered}"

    signer = signer_of(node)
    expired = DownloadGrant(
        info.file_id, "Ünïcode report.pdf", "application/pdf", SIZE, info.content_hash or "", 1
    )
    unsigned = GrantSigner("not the server's key").path(
        DownloadGrant(info.file_id, "x.bin", "text/html", SIZE, "x", int(time.time()) + 60)
    )
    async with httpx.AsyncClient() as anonymous:
        assert (await anonymous.get(location)).content == data
        refused = [
            changed(sig=("1" if query["sig"][0] == "0" else "0") + query["sig"][1:]),
            changed(type="text/html"),
            changed(size=str(SIZE - 1)),
            changed(expires=str(int(query["expires"]) + 1)),
            f"{base}{url.path.replace('report', 'r%C3%A9port')}?{url.query}",
            f"{base}{url.path}?{url.query}&sig=again",
            f"{base}{url.path}",
            base + signer.path(expired),
            base + unsigned,
            f"{base}/files/{info.file_id}",
            f"{base}/../files/{info.file_id}/x?{url.query}",
        ]
        for target in refused:
            answer = await anonymous.get(target)
            assert answer.status_code == 404, target
            assert answer.json()["code"] == "not_found"

        await ann.delete_file(info.file_id)
        gone = await anonymous.get(location)
        assert gone.status_code == 404
        assert gone.json()["detail"] == "File not found"


async def test_requests_that_are_not_downloads_get_a_clear_4xx_and_nothing_else(
    node: ServerProcess, ann: HyperSendClient, shared: tuple[FileInfo, bytes]
) -> None:
    info, _ = shared
    port = download_port(node)
    target = urlsplit(await granted(ann, info.file_id))
    path = f"{target.path}?{target.query}".encode()
    answers = {
        b"garbage\r\n\r\n": b"HTTP/1.1 400 ",
        b"GET " + path + b" HTTP/2.0\r\n\r\n": b"HTTP/1.1 400 ",
        b"GET " + path + b" HTTP/1.1\r\nno colon here\r\n\r\n": b"HTTP/1.1 400 ",
        b"GET " + path + b" HTTP/1.1\r\nRange: bytes=0-1\r\nRange: bytes=2-3\r\n\r\n": (
            b"HTTP/1.1 400 "
        ),
        b"GET " + path + b" HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello": b"HTTP/1.1 400 ",
        b"GET " + path + b" HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n": b"HTTP/1.1 400 ",
        b"GET " + path + b" HTTP/1.1\r\nX-Big: " + b"a" * MAX_HEAD_BYTES + b"\r\n\r\n": (
            b"HTTP/1.1 431 "
        ),
        b"GET " + path + b" HTTP/1.1\r\nRange: lines=1-2\r\nConnection: close\r\n\r\n": (
            b"HTTP/1.1 400 "
        ),
        b"GET " + path + b" HTTP/1.1\r\nRange: bytes=999999999-\r\nConnection: close\r\n\r\n": (
            b"HTTP/1.1 416 "
        ),
        b"DELETE " + path + b" HTTP/1.1\r\nConnection: close\r\n\r\n": b"HTTP/1.1 405 ",
        b"GET " + path + b" HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n": b"HTTP/1.1 400 ",
        b"GET " + path + b" HTTP/1.0\r\n\r\n": b"HTTP/1.1 200 ",  # HTTP/1.0: then closed
    }
    for request, status in answers.items():
        answer = await exchange(port, request)
        assert answer.startswith(status), (request[:60], answer[:200])
        if not status.endswith(b"200 "):
            assert b'"code": "' in answer
            assert answer.count(b"HTTP/1.1") == 1  # answered once, then closed
    not_allowed = await exchange(port, b"POST " + path + b" HTTP/1.1\r\nConnection: close\r\n\r\n")
    assert b"\r\nAllow: GET, HEAD\r\n" in not_allowed
    kept_alive = await exchange(
        port,
        b"GET " + path + b" HTTP/1.1\r\nRange: bytes=-0\r\n\r\n"
        b"GET " + path + b" HTTP/1.1\r\nRange: bytes=0-3\r\nConnection: close\r\n\r\n",
    )
    assert answers_of(kept_alive) == [416, 206]  # a refused range does not end the connection
    pipelined = await exchange(
        port,
        b"HEAD " + path + b" HTTP/1.1\r\n\r\n" + b"GET " + path + b" HTTP/1.1\r\n"
        b"Range: bytes=0-3\r\nConnection: close\r\n\r\n",
    )
    assert answers_of(pipelined) == [200, 206]


def answers_of(raw: bytes) -> list[int]:
    """The statuses of the answers in `raw`, in order."""
    return [int(status) for status in re.findall(rb"HTTP/1\.1 (\d{3}) ", raw)]


async def test_a_client_that_sends_no_request_is_let_go(node: ServerProcess) -> None:
    started = time.monotonic()
    said = await exchange(download_port(node), b"GET /files/", read_timeout=HEAD_TIMEOUT + 10)
    assert said == b""  # closed without an answer: the client never finished asking
    assert HEAD_TIMEOUT - 1 < time.monotonic() - started < HEAD_TIMEOUT + 10


async def test_connections_past_the_bound_are_answered_503_and_closed(
    node: ServerProcess,
) -> None:
    port = download_port(node)
    held = []
    try:
        for _ in range(MAX_CONNECTIONS):
            held.append(await asyncio.open_connection("127.0.0.1", port))
        reader, writer = held[-1]  # answered: the port has accepted it and every one before
        writer.write(b"GET /x HTTP/1.1\r\n\r\n")
        assert (await reader.readuntil(b"\r\n")).startswith(b"HTTP/1.1 404 ")
        answer = await exchange(port, b"")
        assert answer.startswith(b"HTTP/1.1 503 ")
        assert b'"code": "service_unavailable"' in answer
    finally:
        for _, writer in held:
            writer.close()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # the held connections end, and room is made again
        answer = await exchange(port, b"GET /x HTTP/1.1\r\nConnection: close\r\n\r\n")
        if not answer.startswith(b"HTTP/1.1 503 "):
            break
        await asyncio.sleep(0.1)
    assert answer.startswith(b"HTTP/1.1 404 ")


async def test_any_node_sends_the_bytes_another_node_granted(
    node: ServerProcess, ann: HyperSendClient, shared: tuple[FileInfo, bytes]
) -> None:
    """Nothing lives in one process: a grant carries all an answer needs, so the download
    port of another node (same data root and key) serves it."""
    info, data = shared
    other = ServerProcess(
        node.data_root, {"DOWNLOAD_PORT": str(free_port())}, name="second-node"
    ).start()
    try:
        location = urlsplit(await granted(ann, info.file_id))
        elsewhere = f"http://127.0.0.1:{download_port(other)}{location.path}?{location.query}"
        async with httpx.AsyncClient() as anonymous:
            answer = await anonymous.get(elsewhere, headers={"Range": "bytes=100-199"})
        assert (answer.status_code, answer.content) == (206, data[100:200])
    finally:
        other.stop()
    assert not accepts(download_port(other))  # stopped with its server


def accepts(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def test_the_download_port_ends_when_its_server_is_killed(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "data", {"DOWNLOAD_PORT": str(free_port())}).start()
    port = download_port(server)
    try:
        assert accepts(port)
        assert server.process is not None
        os.kill(server.process.pid, signal.SIGKILL)  # the main process only: no cleanup runs
        deadline = time.monotonic() + 10
        while accepts(port) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not accepts(port)
    finally:
        server.kill()


async def test_the_client_library_follows_the_redirect_and_resumes_there_without_its_token(
    tmp_path: Path,
) -> None:
    """The client reaches the download port through `DOWNLOAD_URL` (here a forwarder that
    keeps what the client says), resumes a part file there with Range, and never sends the
    API's token to another origin."""
    port = free_port()
    forwarder = await TcpProxy(port).start()
    server = ServerProcess(
        tmp_path / "data", {"DOWNLOAD_PORT": str(port), "DOWNLOAD_URL": forwarder.url}
    ).start()
    try:
        ann = await signed_in(server.url, "Ann")
        source = random_file(tmp_path / "movie.mkv", SIZE)
        info = await ann.upload_file(source)
        target = tmp_path / "copy.mkv"
        (tmp_path / "copy.mkv.part").write_bytes(source.read_bytes()[: TEST_CHUNK_SIZE + 1])
        await ann.download_file(info.file_id, target)
        assert target.read_bytes() == source.read_bytes()
        said = bytes(forwarder.sent_upstream)
        assert said.startswith(f"GET /files/{info.file_id}/movie.mkv?".encode())
        assert f"Range: bytes={TEST_CHUNK_SIZE + 1}-".encode() in said
        assert b"authorization" not in said.lower()
        await ann.close()
    finally:
        server.stop()
        await forwarder.stop()
