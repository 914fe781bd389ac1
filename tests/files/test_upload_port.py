"""The upload port (`UPLOAD_PORT`): the API describes an upload to its owner with an
`upload_url` carrying a signed grant, and a listener in every server process takes the
chunks there, checked and recorded by the same service as the API's chunk route. The chunk
route's own rules (lengths, digests, resends, owners) run through it here with real
requests; what is its own: grants, sessions, hostile requests, `Expect: 100-continue`,
keep-alive after a refused chunk, several nodes, and the client library using it."""

import asyncio
import hashlib
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
import pytest

from hypersend.client import HyperSendClient
from hypersend.http1 import MAX_HEAD_BYTES
from hypersend.upload_port.grants import UploadGrant, UploadGrantSigner
from tests.support.accounts import signed_in
from tests.support.files import random_file
from tests.support.raw_requests import exchange
from tests.support.server import TEST_CHUNK_SIZE, ServerProcess, free_port
from tests.support.tcp_proxy import TcpProxy

SIZE = 3 * TEST_CHUNK_SIZE + 123


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    data_root = tmp_path_factory.mktemp("upload-port") / "data"
    process = ServerProcess(data_root, {"UPLOAD_PORT": str(free_port())}).start()
    yield process
    process.stop()


@pytest.fixture
async def ann(node: ServerProcess) -> AsyncIterator[HyperSendClient]:
    client = await signed_in(node.url, "Ann")
    yield client
    await client.close()


def upload_port(node: ServerProcess) -> int:
    return int(node.env["UPLOAD_PORT"])


async def started(client: HyperSendClient, size: int = SIZE) -> dict[str, str]:
    answer = await client.api.json(
        "POST", "/files/upload/start", json={"filename": "movie.mkv", "size": size}
    )
    assert isinstance(answer, dict)
    return answer


def chunk_url(upload_url: str, index: int | str) -> str:
    return f"{upload_url}&{urlencode({'index': index})}"


def piece(data: bytes, index: int) -> bytes:
    return data[index * TEST_CHUNK_SIZE : (index + 1) * TEST_CHUNK_SIZE]


async def test_chunks_sent_to_the_upload_url_make_the_file(
    node: ServerProcess, ann: HyperSendClient, tmp_path: Path
) -> None:
    data = random_file(tmp_path / "movie.mkv", SIZE).read_bytes()
    upload = await started(ann)
    url = urlsplit(upload["upload_url"])
    assert (url.hostname, url.port) == ("127.0.0.1", upload_port(node))
    assert url.path == f"/files/upload/chunk/{upload['file_id']}"
    info = await ann.api.json("GET", f"/files/{upload['file_id']}/info")
    assert urlsplit(info["upload_url"]).path == url.path
    async with httpx.AsyncClient() as anonymous:  # no token: the URL carries the grant
        answers = []
        for index in (3, 1, 0, 2):  # any order, one kept-alive connection
            chunk = piece(data, index)
            answers.append(
                await anonymous.put(
                    chunk_url(upload["upload_url"], index),
                    content=chunk,
                    headers={"X-Chunk-SHA256": hashlib.sha256(chunk).hexdigest()},
                )
            )
        again = await anonymous.post(chunk_url(upload["upload_url"], 1), content=piece(data, 1))
    assert [answer.status_code for answer in answers] == [200] * 4
    assert answers[-1].json() == {
        "file_id": upload["file_id"],
        "index": 2,
        "received_chunks": 4,
        "total_chunks": 4,
        "complete": True,
    }
    assert again.status_code == 200  # sending a chunk again is harmless
    assert node.stored_bytes(upload["file_id"]) == data
    done = await ann.api.json("GET", f"/files/{upload['file_id']}/info")
    assert done["status"] == "complete"
    assert done["upload_url"] is None


async def test_only_the_owner_is_told_the_upload_url(
    node: ServerProcess, ann: HyperSendClient
) -> None:
    async with await signed_in(node.url, "Bea") as bea:
        chat = await ann.open_direct_chat((await bea.me()).id)
        upload = await ann.api.json(
            "POST", "/files/upload/start", json={"filename": "a", "size": 5, "chat_id": chat.id}
        )
        seen_by_bea = await bea.api.json("GET", f"/files/{upload['file_id']}/info")
        assert seen_by_bea["upload_url"] is None
        tus = await ann.api.http.post(
            "/files/tus/",
            headers={**ann.api.auth_headers(), "Tus-Resumable": "1.0.0", "Upload-Length": "5"},
        )
        tus_id = tus.headers["location"].rsplit("/", 1)[-1]
        assert (await ann.api.json("GET", f"/files/{tus_id}/info"))["upload_url"] is None


async def test_only_grants_the_server_signed_for_an_open_session_are_taken(
    node: ServerProcess, ann: HyperSendClient
) -> None:
    upload = await started(ann)
    url = urlsplit(upload["upload_url"])
    query = dict(parse_qsl(url.query))
    base = f"http://127.0.0.1:{upload_port(node)}"
    secret = (node.data_root / "secret_key").read_text().strip()
    fields = (upload["file_id"], query["user"], query["session"])

    def changed(**replaced: str) -> str:
        return f"{base}{url.path}?{urlencode({**query, **replaced, 'index': 0})}"

    other_sig = ("1" if query["sig"][0] == "0" else "0") + query["sig"][1:]
    async with await signed_in(node.url, "Cid") as cid:
        cids = await started(cid)
        cids_query = dict(parse_qsl(urlsplit(cids["upload_url"]).query))
        refused = [
            changed(sig=other_sig),
            changed(user=cids_query["user"]),
            changed(session=cids_query["session"]),
            changed(expires=str(int(query["expires"]) + 1)),
            f"{base}/files/upload/chunk/{cids['file_id']}?{urlencode({**query, 'index': 0})}",
            f"{base}{url.path}?index=0",
            f"{base}{url.path}?{url.query}&index=0&index=1",
            f"{base}{url.path}?{url.query}&index=0&sig=again",
            f"{base}/files/upload/chunk/?{url.query}&index=0",
            base
            + UploadGrantSigner("not the server's key").path(UploadGrant(*fields, 2**40))
            + "&index=0",
        ]
        expired = base + UploadGrantSigner(secret).path(UploadGrant(*fields, 1)) + "&index=0"
        async with httpx.AsyncClient() as anonymous:
            for target in refused:
                answer = await anonymous.put(target, content=b"x" * TEST_CHUNK_SIZE)
                assert answer.status_code == 404, target
                assert answer.json()["code"] == "not_found"
            late = await anonymous.put(expired, content=b"x" * TEST_CHUNK_SIZE)
            assert (late.status_code, late.json()["code"]) == (401, "upload_link_expired")
            await ann.logout()  # the grant ends with the session it was made for
            ended = await anonymous.put(changed(), content=b"x" * TEST_CHUNK_SIZE)
            assert (ended.status_code, ended.json()["code"]) == (401, "session_ended")
    assert b"x" not in node.stored_bytes(upload["file_id"])


async def test_bad_chunks_get_a_clear_4xx_and_nothing_is_kept(
    node: ServerProcess, ann: HyperSendClient
) -> None:
    upload = await started(ann)
    chunk = b"y" * TEST_CHUNK_SIZE
    async with httpx.AsyncClient() as anonymous:

        async def put(index: int | str, body: bytes, **headers: str) -> tuple[int, str]:
            answer = await anonymous.put(
                chunk_url(upload["upload_url"], index), content=body, headers=headers
            )
            return answer.status_code, answer.json()["code"]

        assert await put(0, chunk[:-1]) == (422, "wrong_chunk_length")
        assert await put(0, chunk, **{"X-Chunk-SHA256": "0" * 64}) == (422, "digest_mismatch")
        assert await put(0, chunk, **{"X-Chunk-SHA256": "not hex"}) == (422, "bad_digest")
        assert await put(4, chunk) == (422, "chunk_index_out_of_range")
        assert await put("-1", chunk) == (422, "bad_index")
        assert await put("1e3", chunk) == (422, "bad_index")
        info = await ann.api.json("GET", f"/files/{upload['file_id']}/info")
        assert info["received_chunks"] == 0
        assert (await anonymous.put(chunk_url(upload["upload_url"], 0), content=chunk)).is_success
        assert await put(0, b"z" * TEST_CHUNK_SIZE) == (409, "chunk_conflict")
    info = await ann.api.json("GET", f"/files/{upload['file_id']}/info")
    assert info["received_chunks"] == 1


async def test_requests_that_are_not_chunks_get_a_clear_4xx(
    node: ServerProcess, ann: HyperSendClient
) -> None:
    upload = await started(ann)
    target = urlsplit(chunk_url(upload["upload_url"], 0))
    path = f"{target.path}?{target.query}".encode()
    port = upload_port(node)
    cases = {
        b"PUT " + path + b" HTTP/1.1\r\nHost: x\r\n\r\n": b"411 Length Required",
        b"PUT "
        + path
        + b" HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n": (
            b"411 Length Required"
        ),
        b"PUT " + path + b" HTTP/1.1\r\nContent-Length: -5\r\n\r\n": b"422 Unprocessable",
        b"PUT " + path + b" HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello": (
            b"400 Bad Request"
        ),
        b"GET " + path + b" HTTP/1.1\r\n\r\n": b"405 Method Not Allowed",
        b"PUT " + path + b" HTTP/2.0\r\nContent-Length: 0\r\n\r\n": b"400 Bad Request",
        b"PUT " + path + b" HTTP/1.1\r\nX-Big: " + b"a" * MAX_HEAD_BYTES + b"\r\n\r\n": (
            b"431 Request Header Fields Too Large"
        ),
    }
    for request, status in cases.items():
        said = await exchange(port, request)
        assert said.startswith(b"HTTP/1.1 " + status), (request[:80], said[:200])
        assert b'"code"' in said
    info = await ann.api.json("GET", f"/files/{upload['file_id']}/info")
    assert info["received_chunks"] == 0


async def test_a_chunk_refused_before_its_body_is_never_asked_for(
    node: ServerProcess, ann: HyperSendClient
) -> None:
    """`Expect: 100-continue`: the client is told to go on only once the chunk may come in;
    a chunk refused before that is answered at once and its body never sent."""
    upload = await started(ann)
    target = urlsplit(chunk_url(upload["upload_url"], 0))
    path = f"{target.path}?{target.query}".encode()
    head = b"PUT %s HTTP/1.1\r\nContent-Length: %d\r\nExpect: 100-continue\r\n\r\n"
    reader, writer = await asyncio.open_connection("127.0.0.1", upload_port(node))
    try:
        writer.write(head % (path, TEST_CHUNK_SIZE))
        assert await reader.readuntil(b"\r\n\r\n") == b"HTTP/1.1 100 Continue\r\n\r\n"
        writer.write(b"w" * TEST_CHUNK_SIZE)
        accepted = await reader.readuntil(b"\r\n\r\n")
        assert accepted.startswith(b"HTTP/1.1 200 OK")
        length = int(accepted.split(b"Content-Length: ")[1].split(b"\r\n")[0])
        assert b'"complete": false' in await reader.readexactly(length)
        writer.write(head % (path.replace(b"index=0", b"index=9"), TEST_CHUNK_SIZE))
        refused = await asyncio.wait_for(reader.read(), 10)  # no 100: the answer, then closed
        assert refused.startswith(b"HTTP/1.1 422 Unprocessable")
        assert b"chunk_index_out_of_range" in refused
    finally:
        writer.close()


async def test_a_refused_small_chunk_leaves_the_connection_usable(
    node: ServerProcess, ann: HyperSendClient
) -> None:
    upload = await started(ann)
    async with httpx.AsyncClient() as anonymous:
        refused = await anonymous.put(chunk_url(upload["upload_url"], 9), content=b"v" * 100)
        assert refused.status_code == 422
        taken = await anonymous.put(
            chunk_url(upload["upload_url"], 3), content=b"v" * (SIZE - 3 * TEST_CHUNK_SIZE)
        )
        assert taken.status_code == 200
        assert taken.json()["received_chunks"] == 1


async def test_any_node_takes_the_chunks_another_node_granted(
    node: ServerProcess, ann: HyperSendClient, tmp_path: Path
) -> None:
    """A grant and the records are shared, not kept in one process: chunks of one upload
    sent to two nodes' upload ports (same database, files and key) make one file."""
    data = random_file(tmp_path / "movie.mkv", SIZE).read_bytes()
    other = ServerProcess(
        node.data_root, {"UPLOAD_PORT": str(free_port())}, name="second-node"
    ).start()
    try:
        upload = await started(ann)
        granted = urlsplit(upload["upload_url"])
        there = f"http://127.0.0.1:{upload_port(other)}{granted.path}?{granted.query}"
        async with httpx.AsyncClient() as anonymous:
            for index in range(4):
                url = there if index % 2 else upload["upload_url"]
                answer = await anonymous.put(chunk_url(url, index), content=piece(data, index))
                assert answer.status_code == 200
        assert answer.json()["complete"] is True
        assert node.stored_bytes(upload["file_id"]) == data
    finally:
        other.stop()


async def test_the_client_library_sends_its_chunks_there_without_its_token(
    tmp_path: Path,
) -> None:
    """The client reaches the upload port through `UPLOAD_URL` (a forwarder that keeps what
    the client says), resumes an upload there, and sends no token to it."""
    port = free_port()
    forwarder = await TcpProxy(port).start()
    server = ServerProcess(
        tmp_path / "data", {"UPLOAD_PORT": str(port), "UPLOAD_URL": forwarder.url}
    ).start()
    try:
        async with await signed_in(server.url, "Ann") as ann:
            source = random_file(tmp_path / "movie.mkv", SIZE)
            info = await ann.upload_file(source, parallel=2)
            assert info.status == "complete"
            assert server.stored_bytes(info.file_id) == source.read_bytes()
            said = bytes(forwarder.sent_upstream)
            assert said.startswith(f"PUT /files/upload/chunk/{info.file_id}?user=".encode())
            assert b"authorization" not in said.lower()
    finally:
        server.stop()
        await forwarder.stop()


def test_grants_expire_as_signed(tmp_path: Path) -> None:
    signer = UploadGrantSigner("key")
    path = signer.path(UploadGrant("F", "U", "S", int(time.time()) + 60))
    query = dict(parse_qsl(urlsplit(path).query))
    grant = signer.read("F", query)
    assert grant is not None
    assert (grant.user_id, grant.session_id) == ("U", "S")
    assert signer.read("G", query) is None
    assert UploadGrantSigner("other key").read("F", query) is None


async def test_a_server_stopping_mid_chunk_ends_the_chunk_and_records_nothing(
    tmp_path: Path,
) -> None:
    """The thread receiving a chunk is stopped with the server (not left writing into a file
    its process closed): the server exits at once, and the half-sent chunk is not recorded."""
    server = ServerProcess(tmp_path / "data", {"UPLOAD_PORT": str(free_port())}).start()
    try:
        async with await signed_in(server.url, "Ann") as ann:
            upload = await started(ann)
            target = urlsplit(chunk_url(upload["upload_url"], 0))
            reader, writer = await asyncio.open_connection("127.0.0.1", upload_port(server))
            head = f"PUT {target.path}?{target.query} HTTP/1.1\r\nContent-Length: %d\r\n\r\n"
            writer.write((head % TEST_CHUNK_SIZE).encode() + b"h" * (TEST_CHUNK_SIZE // 2))
            await writer.drain()
            await asyncio.sleep(0.5)  # the chunk is being received
            stopping = time.monotonic()
            await asyncio.to_thread(server.stop)
            assert time.monotonic() - stopping < 10
            assert await asyncio.wait_for(reader.read(), 5) == b""  # hung up
            writer.close()
            await asyncio.to_thread(server.start)
            info = await ann.api.json("GET", f"/files/{upload['file_id']}/info")
            assert (info["received_chunks"], info["missing_chunks"]) == (0, [0, 1, 2, 3])
            assert info["upload_url"]  # and the port serves again
    finally:
        server.stop()


async def test_the_client_asks_again_when_its_upload_link_expires(tmp_path: Path) -> None:
    """A grant lasts as long as an idle upload (here 3.6 s); an upload that goes on longer,
    a chunk at a time, gets `upload_link_expired`, asks for a fresh `upload_url` and ends."""
    server = ServerProcess(
        tmp_path / "data", {"UPLOAD_PORT": str(free_port()), "UPLOAD_EXPIRY_HOURS": "0.001"}
    ).start()
    try:
        async with await signed_in(server.url, "Ann") as ann:
            source = random_file(tmp_path / "movie.mkv", 10 * TEST_CHUNK_SIZE)
            started_at = time.monotonic()

            def slowly(done: int, size: int) -> None:
                time.sleep(0.5)  # each chunk half a second apart: the upload stays active

            info = await ann.upload_file(source, parallel=1, progress=slowly)
            assert time.monotonic() - started_at > 3.6 + 1  # outlived its first grant
            assert info.status == "complete"
            assert server.stored_bytes(info.file_id) == source.read_bytes()
    finally:
        server.stop()
