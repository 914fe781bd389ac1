"""tus 1.0 uploads (`/files/tus/`): clients no one here wrote (tuspy, tus-js-client under
Node.js) upload, resume and land files that the chunk API's download route serves with the
same content hash; every error case of the specification answers its status."""

import base64
import hashlib
from pathlib import Path

import httpx
import pytest

from hypersend.client import HyperSendClient
from tests.support.files import random_file, sha256_of, start
from tests.support.server import TEST_CHUNK_SIZE, ServerProcess
from tests.support.tus import (
    OCTETS,
    TUS,
    bearer,
    create,
    file_id_of,
    landed_intact,
    metadata_header,
    node_upload,
    offset_of,
    patch,
    tuspy_uploader,
)


async def test_options_tell_what_the_server_speaks(server: ServerProcess) -> None:
    async with httpx.AsyncClient(base_url=server.url) as http:
        answer = await http.options("/files/tus/")
    assert answer.status_code == 204
    assert answer.headers["tus-version"] == "1.0.0"
    extensions = answer.headers["tus-extension"].split(",")
    assert {"creation", "creation-with-upload", "termination", "expiration", "checksum"} <= set(
        extensions
    )
    assert "sha256" in answer.headers["tus-checksum-algorithm"].split(",")
    assert int(answer.headers["tus-max-size"]) > 0


async def test_tuspy_uploads_in_pieces_that_cut_chunks_and_the_file_downloads_identical(
    server: ServerProcess, alice: HyperSendClient, tmp_path: Path
) -> None:
    source = random_file(tmp_path / "photo album.bin", 5 * TEST_CHUNK_SIZE + 12_345)
    uploader = tuspy_uploader(server.url, alice, source, chunk_size=100_000)
    uploader.upload()
    info = await alice.file_info(file_id_of(str(uploader.url)))
    assert info.status == "complete"
    assert info.filename == "photo album.bin"
    assert await landed_intact(alice, str(uploader.url), source)
    assert await offset_of(alice, str(uploader.url)) == source.stat().st_size


async def test_tuspy_with_checksums_and_one_patch_of_the_whole_file(
    server: ServerProcess, alice: HyperSendClient, tmp_path: Path
) -> None:
    source = random_file(tmp_path / "whole.bin", 3 * TEST_CHUNK_SIZE + 7)
    uploader = tuspy_uploader(server.url, alice, source, upload_checksum=True)
    uploader.upload()
    assert await landed_intact(alice, str(uploader.url), source)


async def test_creation_with_upload_takes_the_first_bytes_with_the_post(
    server: ServerProcess, alice: HyperSendClient
) -> None:
    data = bytes(range(256)) * 600
    answer, location = await create(
        alice, len(data), **{"Content-Type": "application/offset+octet-stream"}
    )
    assert answer.status_code == 201
    assert answer.headers["tus-resumable"] == "1.0.0"
    assert answer.headers["upload-offset"] == "0"
    first = data[:70_000]
    answer = await alice.api.http.post(
        "/files/tus/",
        content=first,
        headers={
            **bearer(alice),
            **OCTETS,
            "Upload-Length": str(len(data)),
            "Upload-Metadata": metadata_header(filename="early.bin"),
        },
    )
    assert answer.status_code == 201
    assert answer.headers["upload-offset"] == str(len(first))
    location = answer.headers["location"]
    assert (await patch(alice, location, len(first), data[len(first) :])).status_code == 204
    assert await offset_of(alice, location) == len(data)
    info = await alice.file_info(file_id_of(location))
    assert info.status == "complete"
    assert info.filename == "early.bin"


async def test_head_reports_length_metadata_and_expiry_and_offset_after_each_patch(
    server: ServerProcess, alice: HyperSendClient
) -> None:
    metadata = metadata_header(filename="notes.txt", filetype="text/plain")
    answer, location = await create(alice, 200_000, **{"Upload-Metadata": metadata})
    assert answer.status_code == 201
    assert "upload-expires" in answer.headers
    head = await alice.api.http.head(location, headers={**bearer(alice), **TUS})
    assert head.status_code == 200
    assert head.headers["upload-length"] == "200000"
    assert head.headers["upload-metadata"] == metadata
    assert head.headers["cache-control"] == "no-store"
    assert head.headers["upload-offset"] == "0"
    offset = 0
    for size in (10, 70_000, 1, 65_536, 64_453):  # within, across and onto chunk boundaries
        answer = await patch(alice, location, offset, bytes([size % 251]) * size)
        assert answer.status_code == 204, answer.text
        offset += size
        assert answer.headers["upload-offset"] == str(offset)
        assert await offset_of(alice, location) == offset
    info = await alice.file_info(file_id_of(location))
    assert info.status == "complete"
    assert info.mime == "text/plain"


async def test_a_wrong_offset_is_409_and_tells_the_right_one(
    server: ServerProcess, alice: HyperSendClient
) -> None:
    _, location = await create(alice, 1000)
    assert (await patch(alice, location, 0, b"a" * 100)).status_code == 204
    answer = await patch(alice, location, 50, b"b" * 100)
    assert answer.status_code == 409
    assert answer.json()["code"] == "offset_mismatch"
    assert answer.headers["tus-resumable"] == "1.0.0"
    assert await offset_of(alice, location) == 100


async def test_a_checksum_mismatch_is_460_and_keeps_none_of_the_bytes(
    server: ServerProcess, alice: HyperSendClient
) -> None:
    data = bytes(range(200)) * 1000  # 200,000 bytes: three chunks and a piece
    _, location = await create(alice, len(data))
    wrong = base64.b64encode(hashlib.sha256(b"other bytes").digest()).decode()
    answer = await patch(alice, location, 0, data, **{"Upload-Checksum": f"sha256 {wrong}"})
    assert answer.status_code == 460
    assert answer.json()["code"] == "checksum_mismatch"
    assert await offset_of(alice, location) == 0
    assert (await alice.file_info(file_id_of(location))).missing_chunks == [0, 1, 2, 3]
    right = base64.b64encode(hashlib.sha256(data).digest()).decode()
    answer = await patch(alice, location, 0, data, **{"Upload-Checksum": f"sha256 {right}"})
    assert answer.status_code == 204
    assert (await alice.file_info(file_id_of(location))).status == "complete"


@pytest.mark.parametrize(
    ("checksum", "code"),
    [
        ("crc32 AAAAAA==", "checksum_algorithm_unsupported"),
        ("sha256 not*base64", "bad_checksum"),
        ("sha256 AAAA", "bad_checksum"),
    ],
)
async def test_a_checksum_header_that_cannot_be_used_is_400(
    server: ServerProcess, alice: HyperSendClient, checksum: str, code: str
) -> None:
    _, location = await create(alice, 1000)
    answer = await patch(alice, location, 0, b"x" * 10, **{"Upload-Checksum": checksum})
    assert answer.status_code == 400
    assert answer.json()["code"] == code
    assert await offset_of(alice, location) == 0


async def test_protocol_errors_answer_their_statuses(
    server: ServerProcess, alice: HyperSendClient
) -> None:
    _, location = await create(alice, 1000)
    no_version = await alice.api.http.patch(
        location,
        content=b"x",
        headers={
            **bearer(alice),
            "Content-Type": "application/offset+octet-stream",
            "Upload-Offset": "0",
        },
    )
    assert no_version.status_code == 412
    assert no_version.headers["tus-version"] == "1.0.0"
    wrong_type = await patch(alice, location, 0, b"x", **{"Content-Type": "text/plain"})
    assert wrong_type.status_code == 415
    no_offset = await alice.api.http.patch(
        location, content=b"x", headers={**bearer(alice), **OCTETS}
    )
    assert no_offset.status_code == 400
    bad_offset = await patch(alice, location, 0, b"x", **{"Upload-Offset": "-1"})
    assert bad_offset.status_code == 400

    async def streamed() -> "object":
        yield b"x"

    unknown_length = await alice.api.http.patch(
        location,
        content=streamed(),  # type: ignore[arg-type]
        headers={**bearer(alice), **OCTETS, "Upload-Offset": "0"},
    )
    assert unknown_length.status_code == 411
    too_far = await patch(alice, location, 0, b"x" * 1001)
    assert too_far.status_code == 413
    assert await offset_of(alice, location) == 0
    for answer in (no_version, wrong_type, no_offset, bad_offset, unknown_length, too_far):
        assert answer.headers["tus-resumable"] == "1.0.0"
        assert answer.json()["detail"]


async def test_creation_errors(server: ServerProcess, alice: HyperSendClient) -> None:
    no_length = await alice.api.http.post("/files/tus/", headers={**bearer(alice), **TUS})
    assert no_length.status_code == 400
    deferred = await alice.api.http.post(
        "/files/tus/", headers={**bearer(alice), **TUS, "Upload-Defer-Length": "1"}
    )
    assert deferred.status_code == 400
    huge, _ = await create(alice, 2**50)
    assert huge.status_code == 413
    assert huge.json()["code"] == "file_too_large"
    empty, _ = await create(alice, 0)
    assert empty.status_code == 413
    for metadata in (",", "filename !!!", "a YQ==,a YQ==", "filename //8="):
        bad, _ = await create(alice, 10, **{"Upload-Metadata": metadata})
        assert bad.status_code == 422, metadata
        assert bad.json()["code"] == "bad_metadata"
    stranger_chat, _ = await create(
        alice, 10, **{"Upload-Metadata": metadata_header(chat_id="no-such-chat")}
    )
    assert stranger_chat.status_code == 404
    unsigned = await alice.api.http.post("/files/tus/", headers={**TUS, "Upload-Length": "10"})
    assert unsigned.status_code == 401
    assert unsigned.headers["tus-resumable"] == "1.0.0"


async def test_another_users_or_an_unknown_upload_is_404(
    server: ServerProcess, alice: HyperSendClient, bob: HyperSendClient
) -> None:
    _, location = await create(alice, 1000)
    for method in ("HEAD", "PATCH", "DELETE"):
        answer = await bob.api.http.request(
            method,
            location,
            content=b"x" if method == "PATCH" else None,
            headers={**bearer(bob), **OCTETS, "Upload-Offset": "0"},
        )
        assert answer.status_code == 404, method
    unknown = await alice.api.http.head("/files/tus/nope", headers={**bearer(alice), **TUS})
    assert unknown.status_code == 404
    assert await offset_of(alice, location) == 0


async def test_tus_and_chunk_uploads_each_keep_to_their_own_protocol(
    server: ServerProcess, alice: HyperSendClient
) -> None:
    _, location = await create(alice, TEST_CHUNK_SIZE)
    chunk = await alice.api.http.put(
        f"/files/upload/chunk/{file_id_of(location)}",
        params={"index": 0},
        content=b"x" * TEST_CHUNK_SIZE,
        headers=bearer(alice),
    )
    assert chunk.status_code == 409
    assert chunk.json()["code"] == "tus_upload"
    chunk_upload = str((await start(alice, 100))["file_id"])
    answer = await patch(alice, f"/files/tus/{chunk_upload}", 0, b"x" * 100)
    assert answer.status_code == 404


async def test_termination_removes_the_upload(
    server: ServerProcess, alice: HyperSendClient
) -> None:
    _, location = await create(alice, 200_000)
    assert (await patch(alice, location, 0, b"z" * 100_000)).status_code == 204
    gone = await alice.api.http.delete(location, headers={**bearer(alice), **TUS})
    assert gone.status_code == 204
    head = await alice.api.http.head(location, headers={**bearer(alice), **TUS})
    assert head.status_code == 404
    assert not server.holds_file(file_id_of(location))


async def test_a_chat_named_in_the_metadata_gets_the_file_once_complete(
    server: ServerProcess, alice: HyperSendClient, bob: HyperSendClient, tmp_path: Path
) -> None:
    chat = await alice.open_direct_chat((await bob.me()).id)
    source = random_file(tmp_path / "for bob.bin", 2 * TEST_CHUNK_SIZE + 3)
    uploader = tuspy_uploader(
        server.url,
        alice,
        source,
        chunk_size=50_000,
        metadata={"filename": "for bob.bin", "chat_id": chat.id},
    )
    uploader.upload()
    await offset_of(alice, str(uploader.url))  # asking again posts nothing twice
    messages = (await bob.messages(chat.id)).messages
    files = [message for message in messages if message.file is not None]
    assert len(files) == 1
    assert files[0].file is not None
    assert files[0].file.filename == "for bob.bin"
    copy = tmp_path / "bob's copy.bin"
    await bob.download_file(files[0].file.id, copy)
    assert sha256_of(copy) == sha256_of(source)


async def test_tus_js_client_under_node_uploads_a_file(
    server: ServerProcess, alice: HyperSendClient, tmp_path: Path
) -> None:
    source = random_file(tmp_path / "from node.bin", 4 * TEST_CHUNK_SIZE + 999)
    result = node_upload(server.url, alice, source, chunk_size=90_000)
    assert "url" in result, result
    assert await landed_intact(alice, result["url"], source)


async def test_creation_whose_first_bytes_fail_their_checksum_is_created_at_offset_0(
    server: ServerProcess, alice: HyperSendClient
) -> None:
    data = b"first bytes" * 1000
    wrong = base64.b64encode(hashlib.sha1(b"not these", usedforsecurity=False).digest()).decode()
    answer = await alice.api.http.post(
        "/files/tus/",
        content=data,
        headers={
            **bearer(alice),
            **OCTETS,
            "Upload-Length": str(len(data)),
            "Upload-Checksum": f"sha1 {wrong}",
        },
    )
    assert answer.status_code == 201
    assert answer.headers["upload-offset"] == "0"
    location = answer.headers["location"]
    assert (await patch(alice, location, 0, data)).status_code == 204
    assert (await alice.file_info(file_id_of(location))).status == "complete"
