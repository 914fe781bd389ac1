"""tus uploads that are interrupted: the link cut mid-PATCH, the server killed mid-PATCH or
between PATCHes that ended inside a chunk. tuspy and tus-js-client resume from the offset the
server reports, and the file lands byte-identical (on each file store)."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import requests
from tusclient.exceptions import TusCommunicationError

from tests.files.test_housekeeping import IDLE_RELEASE, wait_for_allocation
from tests.support.accounts import signed_in
from tests.support.files import random_file
from tests.support.server import TEST_CHUNK_SIZE, ServerProcess
from tests.support.tcp_proxy import TcpProxy
from tests.support.tus import (
    TUS,
    bearer,
    create,
    file_id_of,
    landed_intact,
    node_upload,
    offset_of,
    patch,
    tuspy_uploader,
)


async def test_tuspy_resumes_after_the_link_is_cut_mid_patch(
    own_server: ServerProcess, tmp_path: Path
) -> None:
    own_server.start()
    proxy = await TcpProxy(own_server.port).start()
    source = random_file(tmp_path / "cut.bin", 6 * TEST_CHUNK_SIZE + 321)
    try:
        async with await signed_in(own_server.url) as alice:
            uploader = tuspy_uploader(proxy.url, alice, source)  # one PATCH of the whole file
            uploader.set_url(await asyncio.to_thread(uploader.create_url))  # before the cut
            proxy.cut_after(int(3.5 * TEST_CHUNK_SIZE))
            with pytest.raises((TusCommunicationError, requests.ConnectionError)):
                await asyncio.to_thread(uploader.upload)
            assert proxy.cuts == 1
            location = str(uploader.url)
            offset = await offset_of(alice, location)
            assert offset % TEST_CHUNK_SIZE == 0  # whole chunks kept, the cut one not
            assert offset <= 3 * TEST_CHUNK_SIZE
            resumed = await asyncio.to_thread(  # asks the offset at once
                # retried: the server may still be busy with the cut PATCH for a moment (423)
                tuspy_uploader,
                proxy.url,
                alice,
                source,
                upload_url=location,
                retries=5,
                retry_delay=1,
            )
            await asyncio.to_thread(resumed.upload)
            assert await landed_intact(alice, location, source)
    finally:
        await proxy.stop()


async def test_tus_js_client_rides_out_a_cut_link(
    own_server: ServerProcess, tmp_path: Path
) -> None:
    own_server.start()
    proxy = await TcpProxy(own_server.port).start()
    source = random_file(tmp_path / "node cut.bin", 6 * TEST_CHUNK_SIZE + 5)
    try:
        async with await signed_in(own_server.url) as alice:
            proxy.cut_after(int(2.5 * TEST_CHUNK_SIZE))
            result = await asyncio.to_thread(node_upload, proxy.url, alice, source)
            assert "url" in result, result
            assert proxy.cuts == 1
            assert await landed_intact(alice, result["url"], source)
    finally:
        await proxy.stop()


async def test_a_server_killed_mid_patch_keeps_whole_chunks_and_tuspy_resumes(
    own_server: ServerProcess, tmp_path: Path
) -> None:
    own_server.start()
    source = random_file(tmp_path / "killed.bin", 5 * TEST_CHUNK_SIZE + 77)
    data = source.read_bytes()
    async with await signed_in(own_server.url) as alice:
        _, location = await create(alice, len(data))
        sent = asyncio.Event()

        async def body() -> AsyncIterator[bytes]:
            yield data[: int(2.5 * TEST_CHUNK_SIZE)]
            sent.set()
            await asyncio.sleep(30)  # the server dies meanwhile
            yield data[int(2.5 * TEST_CHUNK_SIZE) :]

        sending = asyncio.create_task(
            patch(alice, location, 0, body(), **{"Content-Length": str(len(data))})
        )
        await sent.wait()
        await asyncio.sleep(0.5)  # the server takes what was sent
        own_server.kill()
        sending.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sending
        own_server.restart()
        offset = await offset_of(alice, location)
        assert offset == 2 * TEST_CHUNK_SIZE
        resumed = await asyncio.to_thread(  # asks the offset at once
            tuspy_uploader, own_server.url, alice, source, upload_url=location
        )
        await asyncio.to_thread(resumed.upload)
        assert await landed_intact(alice, location, source)


async def test_bytes_staged_inside_a_chunk_survive_kill_9_and_tus_js_client_resumes_there(
    own_server: ServerProcess, tmp_path: Path
) -> None:
    own_server.start()
    source = random_file(tmp_path / "staged.bin", 4 * TEST_CHUNK_SIZE + 10)
    data = source.read_bytes()
    async with await signed_in(own_server.url) as alice:
        _, location = await create(alice, len(data))
        offset = 0
        for size in (40_000, 60_000):  # ends 34,464 bytes into chunk 1
            answer = await patch(alice, location, offset, data[offset : offset + size])
            assert answer.status_code == 204
            offset += size
        own_server.kill()
        own_server.restart()
        assert await offset_of(alice, location) == 100_000
        result = await asyncio.to_thread(
            node_upload, own_server.url, alice, source, chunk_size=50_000, resume=location
        )
        assert result.get("url") == location, result
        assert await landed_intact(alice, location, source)


async def test_an_expired_upload_is_410(own_server: ServerProcess) -> None:
    own_server.env["UPLOAD_EXPIRY_HOURS"] = "0.0003"  # about a second
    own_server.env["SWEEP_INTERVAL_SECONDS"] = "3600"  # not swept meanwhile: expired, not gone
    own_server.start()
    async with await signed_in(own_server.url) as alice:
        _, location = await create(alice, 100)
        await asyncio.sleep(1.5)
        head = await alice.api.http.head(location, headers={**bearer(alice), **TUS})
        assert head.status_code == 410
        assert "upload-offset" not in head.headers
        answer = await patch(alice, location, 0, b"x" * 100)
        assert answer.status_code == 410
        assert answer.json()["code"] == "upload_expired"


@pytest.mark.disk_store
async def test_an_idle_tus_upload_gives_back_its_disk_but_keeps_its_staged_bytes(
    own_server: ServerProcess, tmp_path: Path
) -> None:
    own_server.env.update(IDLE_RELEASE)
    own_server.start()
    source = random_file(tmp_path / "idle.bin", 32 * TEST_CHUNK_SIZE)
    data = source.read_bytes()
    async with await signed_in(own_server.url) as alice:
        _, location = await create(alice, len(data))
        staged = TEST_CHUNK_SIZE + 1000  # one chunk and the start of the next
        assert (await patch(alice, location, 0, data[:staged])).status_code == 204
        stored = own_server.disk_path(file_id_of(location))
        await wait_for_allocation(stored, below=len(data) // 4)
        assert await offset_of(alice, location) == staged
        resumed = await asyncio.to_thread(
            tuspy_uploader, own_server.url, alice, source, upload_url=location
        )
        await asyncio.to_thread(resumed.upload)
        assert await landed_intact(alice, location, source)
