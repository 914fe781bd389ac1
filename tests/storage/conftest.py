"""The storage contract: every backend must pass the same tests."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hypersend.storage import Storage
from hypersend.storage.sqlite import open_sqlite_storage


@pytest.fixture(params=["sqlite"])
async def storage(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Storage]:
    opened = await open_sqlite_storage(tmp_path / "contract.db", durable=False)
    yield opened
    await opened.close()
