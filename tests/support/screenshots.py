"""Screenshots of the UI for the README, taken by the browser tests when asked to:
`HYPERSEND_SCREENSHOTS=docs/screenshots make unit` refreshes them."""

import os
from pathlib import Path

from playwright.async_api import Page


async def screenshot(page: Page, name: str) -> None:
    folder = os.environ.get("HYPERSEND_SCREENSHOTS")
    if folder:
        await page.wait_for_timeout(500)
        await page.screenshot(path=str(Path(folder) / f"{name}.png"))
