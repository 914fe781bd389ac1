"""Ranged downloads, signed links, sharing through chats, and access control."""

import asyncio
import subprocess
from pathlib import Path

import httpx
import pytest

from hypersend.client import FileInfo, HyperSendClient, IntegrityError, NotFoundError
from tests.support.files import random_file, start
from tests.support.server import TEST_CHUNK_SIZE, ServerProcess

SIZE = 2 * TEST_CHUNK_SIZE + 500


@pytest.fixture
async def uploaded(alice: HyperSendClient, tmp_path: Path) -> tuple[FileInfo, bytes]:
    source = random_file(tmp_path / "naïve café.bin", SIZE)
    info = await alice.upload_file(source, state_dir=tmp_path)
    return info, source.read_bytes()


async def get(client: HyperSendClient, file_id: str, **headers: str) -> httpx.Response:
    """A download as a browser or curl -L makes it: redirects followed (to the download
    port, where one is set; httpx does not take the token to another port)."""
    return await client.api.http.get(
        f"/files/download/{file_id}",
        headers={**client.api.auth_headers(), **headers},
        follow_redirects=True,
    )


async def test_whole_download_headers(
    alice: HyperSendClient, uploaded: tuple[FileInfo, bytes]
) -> None:
    info, data = uploaded
    response = await get(alice, info.file_id)
    assert response.status_code == 200
    assert response.content == data
    assert response.headers["content-length"] == str(SIZE)
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["etag"] == f'"{info.content_hash}"'
    disposition = response.headers["content-disposition"]
    assert disposition == (
        "attachment; filename=\"naive cafe.bin\"; filename*=UTF-8''na%C3%AFve%20caf%C3%A9.bin"
    )


async def test_curl_saves_a_download_under_an_ascii_fallback_of_its_name(
    alice: HyperSendClient, uploaded: tuple[FileInfo, bytes], tmp_path: Path
) -> None:
    info, data = uploaded
    link = await alice.download_link(info.file_id)
    saved = await asyncio.to_thread(
        subprocess.run,
        ["curl", "--silent", "--fail", "--location", "-O", "-J", link],
        cwd=tmp_path,
        capture_output=True,
        check=False,
    )
    assert saved.returncode == 0, saved.stderr
    assert (tmp_path / "naive cafe.bin").read_bytes() == data


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("bytes=0-99", 0, 99),
        ("bytes=100-", 100, SIZE - 1),
        ("bytes=-300", SIZE - 300, SIZE - 1),
        (
            f"bytes={TEST_CHUNK_SIZE - 5}-{TEST_CHUNK_SIZE + 5}",
            TEST_CHUNK_SIZE - 5,
            TEST_CHUNK_SIZE + 5,
        ),
        (f"bytes=10-{SIZE + 1000}", 10, SIZE - 1),
    ],
)
async def test_range_forms_give_206(
    alice: HyperSendClient, uploaded: tuple[FileInfo, bytes], header: str, start: int, end: int
) -> None:
    info, data = uploaded
    response = await get(alice, info.file_id, Range=header)
    assert response.status_code == 206
    assert response.content == data[start : end + 1]
    assert response.headers["content-range"] == f"bytes {start}-{end}/{SIZE}"


async def test_several_ranges_come_as_multipart_byteranges(
    alice: HyperSendClient, uploaded: tuple[FileInfo, bytes]
) -> None:
    info, data = uploaded
    response = await get(alice, info.file_id, Range=f"bytes=0-9,{SIZE - 5}-,100-119")
    assert response.status_code == 206
    media_type, _, boundary = response.headers["content-type"].partition("; boundary=")
    assert media_type == "multipart/byteranges"
    assert int(response.headers["content-length"]) == len(response.content)
    parts = response.content.split(f"--{boundary}".encode())
    assert parts[0] == b""
    assert parts[-1] == b"--"
    spans = [(0, 9), (100, 119), (SIZE - 5, SIZE - 1)]
    assert len(parts[1:-1]) == len(spans)
    for part, (first, last) in zip(parts[1:-1], spans, strict=True):
        head, _, rest = part.partition(b"\r\n\r\n")
        assert f"Content-Range: bytes {first}-{last}/{SIZE}".encode() in head
        assert rest == data[first : last + 1] + b"\r\n"


@pytest.mark.parametrize("header", [f"bytes={SIZE}-", f"bytes={SIZE + 5}-{SIZE + 10}", "bytes=-0"])
async def test_unsatisfiable_ranges_are_416(
    alice: HyperSendClient, uploaded: tuple[FileInfo, bytes], header: str
) -> None:
    response = await get(alice, uploaded[0].file_id, Range=header)
    assert response.status_code == 416
    assert response.json()["code"] == "range_not_satisfiable"
    assert response.headers["content-range"] == f"bytes */{SIZE}"


@pytest.mark.parametrize("header", ["bytes=5-2", "lines=1-2", "bytes=abc", "bytes="])
async def test_malformed_ranges_are_400(
    alice: HyperSendClient, uploaded: tuple[FileInfo, bytes], header: str
) -> None:
    response = await get(alice, uploaded[0].file_id, Range=header)
    assert response.status_code == 400
    assert response.json()["code"] == "bad_range"


async def test_if_range_honours_the_etag(
    alice: HyperSendClient, uploaded: tuple[FileInfo, bytes]
) -> None:
    info, data = uploaded
    fresh = await get(
        alice, info.file_id, Range="bytes=0-9", **{"If-Range": f'"{info.content_hash}"'}
    )
    assert fresh.status_code == 206
    stale = await get(alice, info.file_id, Range="bytes=0-9", **{"If-Range": '"something-else"'})
    assert stale.status_code == 200
    assert stale.content == data


async def test_download_before_completion_is_409(alice: HyperSendClient) -> None:
    file_id = str((await start(alice, 100))["file_id"])
    response = await get(alice, file_id)
    assert response.status_code == 409
    assert response.json()["code"] == "upload_incomplete"


async def test_chat_members_can_download_a_shared_file_and_strangers_cannot(
    alice: HyperSendClient,
    bob: HyperSendClient,
    carol: HyperSendClient,
    uploaded: tuple[FileInfo, bytes],
    tmp_path: Path,
) -> None:
    info, data = uploaded
    assert (await get(bob, info.file_id)).status_code == 404
    chat = await alice.open_direct_chat((await bob.me()).id)
    message = await alice.send_message(chat.id, file_id=info.file_id)
    assert message.kind == "file"
    assert message.file is not None
    assert message.file.filename == "naïve café.bin"
    assert message.file.size == SIZE

    copy = await bob.download_file(info.file_id, tmp_path / "bob.bin")
    assert copy.read_bytes() == data
    assert (await get(carol, info.file_id)).status_code == 404
    with pytest.raises(NotFoundError):
        await carol.file_info(info.file_id)
    with pytest.raises(NotFoundError):
        await carol.send_message(
            (await carol.open_direct_chat((await bob.me()).id)).id, file_id=info.file_id
        )
    preview = next(c for c in await bob.list_chats() if c.id == chat.id).last_message
    assert preview is not None
    assert preview.file is not None


async def test_an_incomplete_file_cannot_be_posted(
    alice: HyperSendClient, bob: HyperSendClient
) -> None:
    file_id = str((await start(alice, 100))["file_id"])
    chat = await alice.open_direct_chat((await bob.me()).id)
    response = await alice.api.http.post(
        "/messages/",
        json={"chat_id": chat.id, "file_id": file_id},
        headers=alice.api.auth_headers(),
    )
    assert response.status_code == 409


async def test_signed_links_work_without_headers_and_with_range(
    server: ServerProcess, alice: HyperSendClient, uploaded: tuple[FileInfo, bytes]
) -> None:
    info, data = uploaded
    url = await alice.download_link(info.file_id)
    assert url.startswith(server.url)
    async with httpx.AsyncClient(follow_redirects=True) as anonymous:
        whole = await anonymous.get(url)
        assert whole.status_code == 200
        assert whole.content == data
        part = await anonymous.get(url, headers={"Range": "bytes=5-9"})
        assert part.status_code == 206
        assert part.content == data[5:10]
        tampered = await anonymous.get(url.replace("sig=", "sig=0"))
        assert tampered.status_code == 404
        bare = await anonymous.get(f"{server.url}/files/download/{info.file_id}")
        assert bare.status_code == 401


async def test_deleting_frees_the_store_and_forgets_the_file(
    server: ServerProcess, alice: HyperSendClient, uploaded: tuple[FileInfo, bytes]
) -> None:
    info, _ = uploaded
    assert server.holds_file(info.file_id)
    await alice.delete_file(info.file_id)
    assert not server.holds_file(info.file_id)
    assert (await get(alice, info.file_id)).status_code == 404


async def test_download_resumes_a_part_file_and_rejects_corruption(
    alice: HyperSendClient, uploaded: tuple[FileInfo, bytes], tmp_path: Path
) -> None:
    info, data = uploaded
    target = tmp_path / "resumed.bin"
    part = tmp_path / "resumed.bin.part"
    part.write_bytes(data[:1000])
    await alice.download_file(info.file_id, target)
    assert target.read_bytes() == data
    assert not part.exists()

    corrupt = tmp_path / "corrupt.bin"
    (tmp_path / "corrupt.bin.part").write_bytes(b"\x00" * 1000)
    with pytest.raises(IntegrityError):
        await alice.download_file(info.file_id, corrupt)
    assert not corrupt.exists()
    assert not (tmp_path / "corrupt.bin.part").exists()
