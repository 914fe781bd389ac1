"""The browser upload page in headless Chromium against a real server: a file sent in slices
lands in the chat; a dropped connection and a reloaded page carry on where they stopped."""

import hashlib
from pathlib import Path

from playwright.async_api import Browser, Page, Route, expect

from hypersend.client import HyperSendClient
from tests.support.files import random_file, sha256_of
from tests.support.screenshots import screenshot
from tests.support.server import TEST_CHUNK_SIZE, ServerProcess

TIMEOUT_MS = 30_000
CHUNKS = 40
PAGE_PARALLEL = 3  # requests the page keeps in flight


async def open_page(browser: Browser, link: str) -> Page:
    page = await browser.new_page()
    await page.goto(link)
    return page


async def choose_and_send(page: Page, path: Path) -> None:
    await page.get_by_label("File to send").set_input_files(str(path))
    await page.get_by_role("button", name="Send", exact=True).click()


async def the_file_message(client: HyperSendClient, chat_id: str) -> str:
    files = [m for m in (await client.messages(chat_id)).messages if m.kind == "file"]
    assert len(files) == 1
    assert files[0].file is not None
    return files[0].file.id


async def test_a_large_file_goes_through_the_page_into_the_chat(
    browser: Browser,
    server: ServerProcess,
    alice: HyperSendClient,
    bob: HyperSendClient,
    tmp_path: Path,
) -> None:
    chat = await alice.open_direct_chat((await bob.me()).id)
    source = random_file(tmp_path / "holiday.mov", CHUNKS * TEST_CHUNK_SIZE - 123)
    page = await open_page(browser, await alice.upload_page_link(chat.id))
    assert "#" not in page.url  # the ticket leaves the address bar at once
    await choose_and_send(page, source)
    await expect(page.get_by_role("status")).to_contain_text("Sent holiday.mov", timeout=TIMEOUT_MS)
    await screenshot(page, "upload-page")
    file_id = await the_file_message(bob, chat.id)
    received = await bob.download_file(file_id, tmp_path / "received.mov")
    assert sha256_of(received) == sha256_of(source)
    await page.close()


async def test_a_dropped_connection_and_a_reload_resume_the_upload(
    browser: Browser,
    server: ServerProcess,
    alice: HyperSendClient,
    carol: HyperSendClient,
    tmp_path: Path,
) -> None:
    chat = await alice.open_direct_chat((await carol.me()).id)
    source = random_file(tmp_path / "backup.tar", CHUNKS * TEST_CHUNK_SIZE)
    page = await open_page(browser, await alice.upload_page_link(chat.id))
    accepted: list[str] = []
    page.on("response", lambda r: accepted.append(r.url) if "/chunk/" in r.url and r.ok else None)

    async def network_down(route: Route) -> None:
        if len(accepted) >= 10:
            await route.abort("internetdisconnected")
        else:
            await route.continue_()

    await page.route("**/upload-page/chunk/**", network_down)
    await choose_and_send(page, source)
    await expect(page.get_by_role("status")).to_contain_text(
        "Connection trouble", timeout=TIMEOUT_MS
    )
    # The person gives up on this tab and opens the page again, with the same file.
    await page.unroute("**/upload-page/chunk/**")
    await page.reload()
    await choose_and_send(page, source)
    await expect(page.get_by_role("status")).to_contain_text("Sent backup.tar", timeout=TIMEOUT_MS)
    # No chunk was accepted twice: what went before the reload was not sent again (a reply
    # cut off by the reload itself may go unseen here, at most one per parallel request).
    assert len(set(accepted)) == len(accepted)
    assert len(accepted) >= CHUNKS - PAGE_PARALLEL
    file_id = await the_file_message(carol, chat.id)
    info = await carol.file_info(file_id)
    expected = hashlib.sha256(source.read_bytes()).hexdigest()
    received = await carol.download_file(file_id, tmp_path / "received.tar")
    assert sha256_of(received) == expected
    assert info.size == source.stat().st_size
    await page.close()
