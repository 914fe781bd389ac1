"""The browser upload page: its own chunk uploader against tus-js-client, in headless Chromium.

    .venv/bin/python bench/upload_page.py [--size-gib 1] [--rounds 3]

The same file goes from the same Chromium to the same server (durability off, so that the
browser's side is what differs) through the page HyperSend serves (`/upload`: slices sent as
parallel chunk PUTs, each with its SHA-256 when the page may hash; and again without the
SHA-256s, as on a plain-http origin, for a like-for-like figure) and through a page of the
same shape that uses tus-js-client (its browser build from the npm registry, one PATCH of the
whole file as it sends by default, no checksum), served from another loopback port with CORS.
Prints GB/s from the click to the file being complete, the server's CPU-seconds per GiB, and
how many bytes of script each page loads; medians of interleaved rounds. Needs Chromium and
npm (`make test` installs both). Not part of the test suite.
"""

import argparse
import asyncio
import functools
import http.server
import os
import re
import statistics
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from common import GB, ServerProcess, add_source_options, server_cpu_seconds, settle, source_file
from playwright.async_api import Browser, Page, async_playwright
from tests.support.server import free_port
from tests.support.tus import node_modules
from tests.ui.conftest import CHROMIUM, CHROMIUM_ARGS

from hypersend.client import HyperSendClient
from hypersend.upload_page.endpoints import PAGE

TUS_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><script src="tus.min.js"></script></head>
<body>
<input id="file" type="file" aria-label="File to send">
<button id="send" type="button">Send</button>
<div id="status" role="status"></div>
<script>
"use strict";
const [endpoint, token, chatId] = location.hash.slice(1).split("|").map(decodeURIComponent);
const say = (text) => { document.getElementById("status").textContent = text; };
document.getElementById("send").addEventListener("click", () => {
  const file = document.getElementById("file").files[0];
  const upload = new tus.Upload(file, {
    endpoint,
    headers: { Authorization: `Bearer ${token}` },
    metadata: { filename: file.name, filetype: file.type, chat_id: chatId },
    retryDelays: [0, 1000, 3000, 5000, 10000, 30000],
    onError: (error) => say(`Not sent: ${error}`),
    onSuccess: () => say(`Sent ${file.name}`),
  });
  upload.start();
});
</script>
</body></html>
"""
TIMEOUT_MS = 600_000
KINDS = ("chunk page", "chunk page, no SHA-256", "tus-js-client page")


@contextmanager
def static_pages(folder: Path) -> Iterator[str]:
    """`folder` served on a loopback port (the tus page and tus-js-client's browser build)."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()


NO_HASHING = "Object.defineProperty(Crypto.prototype, 'subtle', { get: () => undefined });"
"""Run first in a page, this takes WebCrypto away, as on a plain-http origin: the chunk page
then sends its chunks without their SHA-256."""


async def send_through(browser: Browser, url: str, source: Path, *, hashing: bool = True) -> float:
    """Seconds from pressing Send on the page at `url` to its saying the file was sent."""
    page: Page = await browser.new_page()
    if not hashing:
        await page.add_init_script(NO_HASHING)
    try:
        await page.goto(url)
        await page.get_by_label("File to send").set_input_files(str(source))
        started = asyncio.get_running_loop().time()
        await page.locator("#send").click()
        sent = page.get_by_role("status").filter(has_text=re.compile(r"^Sent "))
        await sent.wait_for(timeout=TIMEOUT_MS)
        return asyncio.get_running_loop().time() - started
    finally:
        await page.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    add_source_options(parser)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (medians)")
    parser.set_defaults(size_gib=1.0)
    args = parser.parse_args()
    tus_build = (node_modules() / "tus-js-client" / "dist" / "tus.min.js").read_bytes()
    runs: dict[str, list[float]] = {}
    async with source_file(args) as (scratch, source):
        size = source.stat().st_size
        pages = scratch / "pages"
        pages.mkdir()
        (pages / "tus.html").write_text(TUS_PAGE)
        (pages / "tus.min.js").write_bytes(tus_build)
        with static_pages(pages) as static_url:
            server = ServerProcess(
                scratch / "data",
                {
                    "DURABLE_UPLOADS": "false",
                    "CHUNK_SIZE": str(8 * 1024**2),
                    "CORS_ORIGINS": static_url,
                    "ACCESS_TOKEN_MINUTES": "60",
                },
            ).start()
            try:
                async with (
                    HyperSendClient(server.url) as alice,
                    HyperSendClient(server.url) as bob,
                    async_playwright() as playwright,
                ):
                    for client, name in ((alice, "alice"), (bob, "bob")):
                        await client.register(f"{name}@example.test", "benchmark password", name)
                        await client.login(f"{name}@example.test", "benchmark password")
                    chat = await alice.open_direct_chat((await bob.me()).id)
                    assert alice.tokens is not None
                    browser = await playwright.chromium.launch(
                        executable_path=CHROMIUM, args=CHROMIUM_ARGS
                    )
                    for _ in range(args.rounds):
                        for kind in KINDS:
                            if kind.startswith("chunk page"):
                                url = await alice.upload_page_link(chat.id)
                            else:
                                url = f"{static_url}/tus.html#" + "|".join(
                                    (f"{server.url}/files/tus/", alice.tokens.access_token, chat.id)
                                )
                            settle(scratch, size)
                            cpu = server_cpu_seconds(server)
                            seconds = await send_through(
                                browser, url, source, hashing=kind != "chunk page, no SHA-256"
                            )
                            runs.setdefault(kind, []).append(size / seconds / GB)
                            runs.setdefault(f"{kind} cpu", []).append(
                                (server_cpu_seconds(server) - cpu) / (size / 1024**3)
                            )
                        print(
                            "round:",
                            ", ".join(f"{k} {v[-1]:.2f}" for k, v in runs.items()),
                            flush=True,
                        )
                    await browser.close()
            finally:
                server.stop()
    median = {name: statistics.median(values) for name, values in runs.items()}
    page_script = len(PAGE.encode())
    print(f"medians of {args.rounds} rounds, {size / 1024**3:.1f} GiB from headless Chromium")
    for kind in KINDS:
        print(
            f"{kind:<24} {median[kind]:5.2f} GB/s = {median[kind] / median['chunk page']:4.2f}x"
            f" the chunk page; server {median[f'{kind} cpu']:5.2f} CPU-s/GiB"
        )
    print(
        f"script loaded: the chunk page {page_script} bytes (page and uploader inline);"
        f" tus-js-client {len(tus_build)} bytes minified, before its page"
    )


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    asyncio.run(main())
