"""The real web app in headless Chromium against a real server: register, start a chat, send
and receive messages live, send a small file and a large one (through the upload page), sign
out.

Flet draws on a canvas; its accessibility tree (turned on through the "Enable
accessibility" placeholder) gives every field and button a role and a label to find.
Set `HYPERSEND_SCREENSHOTS=docs/screenshots` to refresh the README's screenshots.
"""

import asyncio
import contextlib
import os
import re
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image
from playwright.async_api import Browser, Locator, Page, expect

from hypersend.client import HyperSendClient, Message
from tests.support.accounts import PASSWORD, signed_in, unique_email
from tests.support.files import random_file
from tests.support.screenshots import screenshot
from tests.support.server import TEST_CHUNK_SIZE, ServerProcess, free_port

TIMEOUT_MS = 45_000  # generous: the full test suite loads this 2-core machine


@pytest.fixture(scope="module")
def web_app(server: ServerProcess, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`hypersend app --web` exactly as a user starts it, pointed at the test server."""
    port = free_port()
    log = (tmp_path_factory.mktemp("app") / "app.log").open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "hypersend",
            "--server",
            server.url,
            "app",
            "--web",
            "--port",
            str(port),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "HOME": str(tmp_path_factory.mktemp("home"))},
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            pass
        assert process.poll() is None, "the web app exited"
        assert time.monotonic() < deadline, "the web app did not start"
        time.sleep(0.2)
    yield url
    process.terminate()
    process.wait(timeout=20)


@pytest.fixture
async def page(browser: Browser, web_app: str) -> AsyncIterator[Page]:
    context = await browser.new_context(viewport={"width": 420, "height": 860})
    opened = await context.new_page()
    opened.set_default_timeout(TIMEOUT_MS)
    await opened.goto(web_app)
    placeholder = opened.locator("flt-semantics-placeholder")
    await placeholder.wait_for(state="attached")
    await placeholder.dispatch_event("click")
    yield opened
    await context.close()


async def type_into(page: Page, label: str, text: str) -> None:
    """Focus a field the way a person does (a click), then type."""
    await page.get_by_role("textbox", name=label).click()
    await page.wait_for_timeout(200)
    await page.keyboard.type(text)


def icon_button(page: Page, tooltip: str) -> Locator:
    """An icon button, found by its tooltip (Flet puts the label on the tooltip's node)."""
    return page.locator(f'flt-semantics[aria-label="{tooltip}"] [role="button"]')


def file_bubble(page: Page, filename: str) -> Locator:
    """A file message: its semantics node is labelled with the download button's tooltip, the
    file's name and size, and the time. Flutter's web semantics make the tappable bubble a
    group around its download button, or (seen once under CI's load) one button merging it:
    either is the message shown."""
    name = f"Download {filename}"
    return page.get_by_role("group", name=name).or_(page.get_by_role("button", name=name))


async def test_a_new_user_chats_live_and_signs_out(
    page: Page, server: ServerProcess, tmp_path: Path
) -> None:
    bob = await signed_in(server.url, "Bobby Tables")
    try:
        await screenshot(page, "sign-in")
        await page.get_by_role("button", name="No account yet? Create one").click()
        email = unique_email("ann")
        await type_into(page, "Email", email)
        await type_into(page, "Password", PASSWORD)
        await type_into(page, "Your name", "Ann Web")
        await page.get_by_role("button", name="Create account").click()
        await expect(page.get_by_text("No chats yet")).to_be_visible()

        await icon_button(page, "New chat").click()
        await type_into(page, "Search people", (await bob.me()).email)
        await page.get_by_role("checkbox", name="Bobby Tables", exact=False).click()
        await page.get_by_role("button", name="Start").click()
        await expect(page.get_by_role("textbox", name="Message")).to_be_visible()

        await type_into(page, "Message", "hello from the browser")
        await page.keyboard.press("Enter")
        chat = (await bob.list_chats())[0]
        await _wait_for(bob, chat.id, lambda m: m.text == "hello from the browser")

        sent = await bob.send_message(chat.id, "hello back, live")
        await expect(page.get_by_text("hello back, live")).to_be_visible()
        await bob.edit_message(sent.id, "hello back, edited live")  # changes in place, marked
        edited = re.escape("hello back, edited live") + r"\sedited\s\d\d:\d\d"
        await expect(page.get_by_text(re.compile(edited))).to_be_visible()
        mine = await _wait_for(bob, chat.id, lambda m: m.text == "hello from the browser")
        await bob.send_message(chat.id, "replying to you", reply_to=mine.id)
        await expect(page.get_by_text("Ann Web: hello from the browser")).to_be_visible()

        # A small file through the browser's picker.
        small = random_file(tmp_path / "notes.txt", 3000)
        await icon_button(page, "Send a file").click()
        async with page.expect_file_chooser() as chooser:
            await page.get_by_role("button", name="Small file").click()
        await (await chooser.value).set_files(str(small))
        await _wait_for(bob, chat.id, lambda m: m.file is not None and m.file.size == 3000)
        await expect(file_bubble(page, "notes.txt")).to_be_visible()

        # A large one through the upload page, which opens in a new tab.
        large = random_file(tmp_path / "video.mp4", 20 * TEST_CHUNK_SIZE + 7)
        await icon_button(page, "Send a file").click()
        async with page.context.expect_page() as opened:
            await page.get_by_role("button", name="Large file").click()
        upload_page = await opened.value
        await upload_page.get_by_label("File to send").set_input_files(str(large))
        await upload_page.get_by_role("button", name="Send", exact=True).click()
        await expect(upload_page.get_by_role("status")).to_contain_text("Sent video.mp4")
        await upload_page.close()
        await expect(file_bubble(page, "video.mp4")).to_be_visible()
        await screenshot(page, "chat")

        # A direct (P2P) offer shows up live; a browser cannot receive it, and declines.
        me = next(m.id for m in chat.members if m.name == "Ann Web")
        offered = await bob.offer_transfer(me, small, chat_id=chat.id)
        await expect(page.get_by_text("Bobby Tables wants to send you notes.txt")).to_be_visible()
        await page.get_by_role("button", name="Decline").click()
        await _until(lambda: bob.transfer(offered["transfer_id"]), "cancelled")

        await icon_button(page, "Back").click()
        await expect(page.get_by_text("Bobby Tables")).to_be_visible()
        await screenshot(page, "chats")
        await icon_button(page, "Settings").click()
        await expect(page.get_by_text(f"Server {server.url}")).to_be_visible()
        await screenshot(page, "settings")
        await page.get_by_role("button", name="Sign out").click()
        await expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    finally:
        await bob.close()


async def with_password(server: ServerProcess, stem: str, name: str) -> tuple[str, HyperSendClient]:
    """A new account whose email the test types into the app; its client, signed in."""
    email = unique_email(stem)
    client = HyperSendClient(server.url)
    await client.register(email, PASSWORD, name)
    await client.login(email, PASSWORD)
    return email, client


async def sign_in(page: Page, email: str) -> None:
    """Sign in on the app's first screen, as a person does: type, then press the button."""
    await type_into(page, "Email", email)
    await type_into(page, "Password", PASSWORD)
    await page.get_by_role("button", name="Sign in").click()


def bubble_text(page: Page, text: str) -> Locator:
    """A message bubble's text: Flet's semantics give it with its time ("hi 12:34")."""
    return page.get_by_text(re.compile(rf"(^|\s){re.escape(text)}\s\d\d:\d\d"))


@contextlib.asynccontextmanager
async def reading_a_long_chat(page: Page, server: ServerProcess, words: str) -> AsyncIterator[None]:
    """Signed in, in the browser, to a direct chat of 70 messages "<words> 1" to "<words> 70"
    (more than one page of 50), its latest message shown."""
    email, ann = await with_password(server, words, f"Ann {words}")
    bob = await signed_in(server.url, f"Bob {words}")
    chat = await bob.open_direct_chat((await ann.me()).id)
    for number in range(1, 71):
        await bob.send_message(chat.id, f"{words} {number}")
    try:
        await sign_in(page, email)
        await page.get_by_text(f"Bob {words}").click()
        await expect(bubble_text(page, f"{words} 70")).to_be_visible()
        await expect(bubble_text(page, f"{words} 1")).to_have_count(0)
        yield
    finally:
        await ann.close()
        await bob.close()


async def scroll_up_until_shown(page: Page, bubble: Locator) -> None:
    await page.mouse.move(200, 400)
    for _ in range(40):
        if await bubble.count():
            break
        await page.mouse.wheel(0, -1500)
        await page.wait_for_timeout(250)
    await expect(bubble).to_be_visible()


async def test_earlier_history_loads_with_the_button(page: Page, server: ServerProcess) -> None:
    async with reading_a_long_chat(page, server, "history"):
        await page.get_by_role("button", name="Load earlier messages").click()
        await expect(page.get_by_role("button", name="Load earlier messages")).to_have_count(0)
        await scroll_up_until_shown(page, bubble_text(page, "history 1"))


async def test_earlier_history_loads_by_scrolling_up(page: Page, server: ServerProcess) -> None:
    async with reading_a_long_chat(page, server, "older"):
        # No button pressed: reaching the oldest message shown loads the page before it.
        await scroll_up_until_shown(page, bubble_text(page, "older 1"))
        await expect(page.get_by_role("button", name="Load earlier messages")).to_have_count(0)


async def test_a_wrong_password_shows_a_clear_error(page: Page) -> None:
    await type_into(page, "Email", unique_email("nobody"))
    await type_into(page, "Password", "not the password")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_text("Wrong email or password")).to_be_visible()


async def _until(read: Callable[[], Awaitable[dict[str, Any]]], status: str) -> None:
    """Until the transfer, as the server has it, has that status."""
    for _ in range(TIMEOUT_MS // 200):
        if (await read())["status"] == status:
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"the transfer never became {status}")


async def _wait_for(
    client: HyperSendClient, chat_id: str, wanted: Callable[[Message], bool]
) -> Message:
    """Until a message of the chat, as the server has it, is what the test waits for."""
    for _ in range(TIMEOUT_MS // 200):
        for message in (await client.messages(chat_id)).messages:
            if wanted(message):
                return message
        await asyncio.sleep(0.2)
    raise AssertionError("the message did not reach the server")


async def test_enter_signs_in_to_the_chat_list_and_a_chat_shows_its_title(
    page: Page, server: ServerProcess
) -> None:
    email, ann = await with_password(server, "enter", "Ann Enter")
    bob = await signed_in(server.url, "Bob Keyboard")
    try:
        chat = await bob.open_direct_chat((await ann.me()).id)
        await bob.send_message(chat.id, "press enter")
        await type_into(page, "Email", email)
        await type_into(page, "Password", PASSWORD)
        await page.keyboard.press("Enter")
        await expect(page.get_by_text("Bob Keyboard")).to_be_visible()
        await page.wait_for_timeout(1500)  # whatever the key may still do, it has done
        await expect(page.get_by_role("textbox", name="Message")).to_have_count(0)
        await page.get_by_text("Bob Keyboard").click()
        await expect(page.get_by_role("textbox", name="Message")).to_be_visible()
        await expect(bubble_text(page, "press enter")).to_be_visible()
        header = page.locator("flt-semantics", has_text=re.compile("^Bob Keyboard$"))
        await expect(header.first).to_be_visible()
    finally:
        await ann.close()
        await bob.close()


def bubble_of(page: Page, text: str) -> Locator:
    """A message bubble by its text and time: its own text, or (once it holds other tappable
    parts, such as reactions) the label of its group."""
    label = re.compile(rf"(^|\s){re.escape(text)}\s[\s\S]*\d\d:\d\d")
    return page.get_by_role("group", name=label).or_(page.get_by_text(label))


def picture(path: Path) -> Path:
    image = Image.new("RGB", (600, 400), "blue")
    image.paste("red", (0, 0, 300, 400))
    image.save(path, "PNG")
    return path


async def test_react_reply_edit_search_and_see_a_picture(
    page: Page, server: ServerProcess, tmp_path: Path
) -> None:
    email, ann = await with_password(server, "feat", "Ann Features")
    bob = await signed_in(server.url, "Bob Features")
    try:
        chat = await bob.open_direct_chat((await ann.me()).id)
        question = await bob.send_message(chat.id, "lunch at noon today?")
        await bob.send_file(chat.id, picture(tmp_path / "menu.png"))
        await sign_in(page, email)
        async with await bob.connect_events():
            await page.get_by_text("Bob Features").click()
            await expect(page.get_by_text("online", exact=True)).to_be_visible()
        await expect(page.get_by_text(re.compile(r"^last seen \d\d:\d\d$"))).to_be_visible()
        await expect(page.get_by_role("img", name="Picture menu.png")).to_be_visible()

        await bubble_of(page, "lunch at noon today?").click()  # a tap offers what to do
        await icon_button(page, "React 👍").click()
        reacted = await _wait_for(bob, chat.id, lambda m: m.id == question.id and bool(m.reactions))
        assert [(r.emoji, r.count, r.mine) for r in reacted.reactions] == [("👍", 1, False)]
        await expect(page.get_by_text("👍 1")).to_be_visible()

        await bubble_of(page, "lunch at noon today?").click()
        await page.get_by_role("button", name="Reply").click()
        await expect(
            page.get_by_text("Replying to Bob Features: lunch at noon today?")
        ).to_be_visible()
        await type_into(page, "Message", "noon works")
        await page.keyboard.press("Enter")
        answer = await _wait_for(bob, chat.id, lambda m: m.text == "noon works")
        assert answer.reply_to is not None
        assert answer.reply_to.id == question.id
        await expect(page.get_by_text("Bob Features: lunch at noon today?")).to_be_visible()

        await page.get_by_text("Bob Features: lunch at noon today?").click()  # the quote
        await bubble_of(page, "noon works").click()
        await expect(page.get_by_role("button", name="Show the message it answers")).to_be_visible()
        await page.get_by_role("button", name="Edit").click()
        await page.get_by_role("textbox", name="Edited text").fill("noon works for me")
        await page.get_by_role("button", name="Save").click()
        await _wait_for(bob, chat.id, lambda m: m.text == "noon works for me")
        await expect(page.get_by_text(re.compile(r"noon works for me\sedited"))).to_be_visible()
        await bob.react(answer.id, "🎉")
        await expect(page.get_by_text("🎉 1")).to_be_visible()
        await screenshot(page, "chat-features")

        await icon_button(page, "Back").click()
        await icon_button(page, "Search").click()
        await type_into(page, "Search messages", "noon")
        await page.keyboard.press("Enter")
        await expect(page.get_by_text("2 found")).to_be_visible()
        await expect(page.get_by_text("noon works for me")).to_be_visible()
        await screenshot(page, "search")
        await page.get_by_text("lunch at noon today?").click()
        await expect(page.get_by_role("textbox", name="Message")).to_be_visible()
        await expect(page.get_by_role("img", name="Picture menu.png")).to_be_visible()

        # Pin and mute the chat (each is Ann's own); the list shows it.
        await icon_button(page, "Pin chat").click()
        await expect(icon_button(page, "Unpin chat")).to_be_visible()
        await icon_button(page, "Mute chat").click()
        await expect(icon_button(page, "Unmute chat")).to_be_visible()
        (listed,) = await ann.list_chats()
        assert (listed.pinned, listed.muted) == (True, True)
        await icon_button(page, "Back").click()
        await icon_button(page, "Settings").click()
        await page.get_by_role("switch", name="Show when I'm online").click()
        await _until_hidden(bob, (await ann.me()).id)
        await expect(page.get_by_role("button", name="Sign out")).to_be_visible()
        await icon_button(page, "Back").click()
        await expect(page.get_by_text(re.compile("Bob Features"))).to_be_visible()
        assert not (await bob.get_chat(chat.id)).pinned
    finally:
        await ann.close()
        await bob.close()


async def _until_hidden(viewer: HyperSendClient, user_id: str) -> None:
    """Until the server shows `user_id`'s presence hidden to `viewer`."""
    for _ in range(TIMEOUT_MS // 200):
        shown = await viewer.presence(user_id)
        if not shown.online and shown.last_seen is None:
            return
        await asyncio.sleep(0.2)
    raise AssertionError("the presence was never hidden")


async def test_tapping_a_quote_shows_the_message_it_answers(
    page: Page, server: ServerProcess
) -> None:
    email, ann = await with_password(server, "quote", "Ann Quote")
    bob = await signed_in(server.url, "Bob Quote")
    try:
        chat = await bob.open_direct_chat((await ann.me()).id)
        first = await bob.send_message(chat.id, "the very first question")
        for number in range(30):
            await bob.send_message(chat.id, f"filler {number}")
        await bob.send_message(chat.id, "about that", reply_to=first.id)
        await sign_in(page, email)
        await page.get_by_text("Bob Quote").click()
        original = bubble_text(page, "the very first question")
        await expect(page.get_by_text("Bob Quote: the very first question")).to_be_visible()
        await expect(original).not_to_be_in_viewport()
        await page.get_by_text("Bob Quote: the very first question").click()
        await expect(original).to_be_in_viewport()
    finally:
        await ann.close()
        await bob.close()
