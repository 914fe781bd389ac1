"""The browser upload page's API: links, ticket scope, uploads that post their file message."""

import hashlib
from pathlib import Path

import httpx
import pytest

from hypersend.client import HyperSendClient, NotFoundError
from tests.support.accounts import signed_in
from tests.support.files import start
from tests.support.server import TEST_CHUNK_SIZE, ServerProcess

CHUNK = TEST_CHUNK_SIZE


def ticket_of(link: str) -> str:
    assert "/upload#" in link
    return link.split("#", 1)[1]


class PageClient:
    """What the page sends, with nothing but the ticket."""

    def __init__(self, server_url: str, ticket: str) -> None:
        self.http = httpx.AsyncClient(
            base_url=server_url, headers={"Authorization": f"Bearer {ticket}"}, timeout=30
        )

    async def start(self, size: int, filename: str = "film.mkv") -> httpx.Response:
        return await self.http.post("/upload-page/start", json={"filename": filename, "size": size})

    async def chunk(self, file_id: str, index: int, body: bytes) -> httpx.Response:
        return await self.http.put(
            f"/upload-page/chunk/{file_id}",
            params={"index": index},
            content=body,
            headers={"X-Chunk-SHA256": hashlib.sha256(body).hexdigest()},
        )

    async def progress(self, file_id: str) -> httpx.Response:
        return await self.http.get(f"/upload-page/files/{file_id}")


@pytest.fixture
async def chat_link(
    server: ServerProcess, alice: HyperSendClient, bob: HyperSendClient
) -> tuple[str, str]:
    """(chat id, upload page link) for a chat of Alice and Bob, the link Alice's."""
    chat = await alice.open_direct_chat((await bob.me()).id)
    return chat.id, await alice.upload_page_link(chat.id)


async def test_an_upload_through_the_page_lands_in_the_chat_once(
    server: ServerProcess,
    alice: HyperSendClient,
    bob: HyperSendClient,
    chat_link: tuple[str, str],
    tmp_path: Path,
) -> None:
    chat_id, link = chat_link
    page = PageClient(server.url, ticket_of(link))
    data = bytes(range(256)) * (3 * CHUNK // 256) + b"tail"
    started = await page.start(len(data))
    assert started.status_code == 201, started.text
    file_id = started.json()["file_id"]
    pieces = [data[i : i + CHUNK] for i in range(0, len(data), CHUNK)]
    for index in (3, 1, 0):
        assert (await page.chunk(file_id, index, pieces[index])).status_code == 200
    progress = (await page.progress(file_id)).json()
    assert progress["missing_chunks"] == [2]
    assert progress["chat_id"] == chat_id
    last = await page.chunk(file_id, 2, pieces[2])
    assert last.json()["complete"] is True
    # Sending the last chunk again (a page that lost the answer) posts nothing more.
    assert (await page.chunk(file_id, 2, pieces[2])).status_code == 200
    seen = (await bob.messages(chat_id)).messages
    files = [m for m in seen if m.kind == "file"]
    assert len(files) == 1
    assert files[0].file is not None
    assert files[0].file.filename == "film.mkv"
    assert files[0].sender_id == (await alice.me()).id
    saved = await bob.download_file(file_id, tmp_path / "film.mkv")
    assert saved.read_bytes() == data


async def test_the_ticket_opens_the_page_routes_only(
    server: ServerProcess, alice: HyperSendClient, chat_link: tuple[str, str]
) -> None:
    _, link = chat_link
    ticket = ticket_of(link)
    async with httpx.AsyncClient(base_url=server.url) as http:
        as_access = await http.get("/chats/", headers={"Authorization": f"Bearer {ticket}"})
        assert as_access.status_code == 401
        access = alice.api.auth_headers()
        as_ticket = await http.post(
            "/upload-page/start", json={"filename": "a", "size": 1}, headers=access
        )
        assert as_ticket.status_code == 401
        assert as_ticket.json()["detail"] == "Invalid upload ticket"
        anonymous = await http.post("/upload-page/start", json={"filename": "a", "size": 1})
        assert anonymous.status_code == 401


async def test_a_ticket_reaches_only_its_own_chat_s_uploads(
    server: ServerProcess,
    alice: HyperSendClient,
    carol: HyperSendClient,
    chat_link: tuple[str, str],
) -> None:
    _, link = chat_link
    page = PageClient(server.url, ticket_of(link))
    own_elsewhere = str((await start(alice, CHUNK))["file_id"])  # Alice's, in no chat
    assert (await page.progress(own_elsewhere)).status_code == 404
    assert (await page.chunk(own_elsewhere, 0, b"x" * CHUNK)).status_code == 404
    carols = str((await start(carol, CHUNK))["file_id"])
    assert (await page.progress(carols)).status_code == 404


async def test_links_are_for_members_and_end_with_the_session(
    server: ServerProcess, bob: HyperSendClient, carol: HyperSendClient
) -> None:
    dave = await signed_in(server.url, "Dave Outsider")
    chat = await bob.open_direct_chat((await carol.me()).id)
    with pytest.raises(NotFoundError):
        await dave.upload_page_link(chat.id)
    own_chat = await dave.open_direct_chat((await bob.me()).id)
    page = PageClient(server.url, ticket_of(await dave.upload_page_link(own_chat.id)))
    assert (await page.start(10)).status_code == 201
    await dave.logout()
    ended = await page.start(10)
    assert ended.status_code == 401
    assert ended.json()["code"] == "session_ended"
    await dave.close()


async def test_bad_input_is_refused_cleanly(
    server: ServerProcess, chat_link: tuple[str, str]
) -> None:
    page = PageClient(server.url, ticket_of(chat_link[1]))
    assert (await page.start(0)).status_code == 422
    file_id = (await page.start(CHUNK)).json()["file_id"]
    short = await page.http.put(
        f"/upload-page/chunk/{file_id}", params={"index": 0}, content=b"short"
    )
    assert short.status_code in (400, 422)
    assert "detail" in short.json()
    assert (await page.chunk(file_id, 7, b"x")).status_code == 422


async def test_the_page_itself(server: ServerProcess) -> None:
    async with httpx.AsyncClient(base_url=server.url) as http:
        page = await http.get("/upload")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["referrer-policy"] == "no-referrer"
    assert "Send a large file" in page.text
