from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from hypersend.client import HyperSendClient
from tests.support.accounts import signed_in
from tests.support.postgres import PostgresProcess
from tests.support.server import ServerProcess


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One real server shared by the tests that do not restart or reconfigure it."""
    process = ServerProcess(tmp_path_factory.mktemp("shared") / "data").start()
    yield process
    process.stop()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresProcess]:
    """One private PostgreSQL for the session; tests take fresh databases on it."""
    process = PostgresProcess().start()
    yield process
    process.remove()


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[ServerProcess]:
    """A server of the test's own, free to be restarted or killed (not started yet)."""
    process = ServerProcess(tmp_path / "data")
    yield process
    process.stop()


@pytest.fixture
async def alice(server: ServerProcess) -> AsyncIterator[HyperSendClient]:
    client = await signed_in(server.url, "Alice Liddell")
    yield client
    await client.close()


@pytest.fixture
async def bob(server: ServerProcess) -> AsyncIterator[HyperSendClient]:
    client = await signed_in(server.url, "Bob Builder")
    yield client
    await client.close()


@pytest.fixture
async def carol(server: ServerProcess) -> AsyncIterator[HyperSendClient]:
    client = await signed_in(server.url, "Carol Danvers")
    yield client
    await client.close()
