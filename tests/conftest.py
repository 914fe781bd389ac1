from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Literal

import pytest

from hypersend.client import HyperSendClient
from tests.support.accounts import signed_in
from tests.support.postgres import PostgresProcess
from tests.support.server import ServerProcess

# The core flows (accounts, chats, messages, files, transfers, administration) run against
# each SQL store; everything else against the embedded default.
CORE_FLOWS = ("auth", "chats", "messages", "files", "transfers", "admin", "users")
STORES = ("sqlite", "postgresql")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    flow = metafunc.definition.path.parent.name
    stores = list(STORES) if flow in CORE_FLOWS else ["sqlite"]
    scopes: tuple[tuple[str, Literal["session", "module"]], ...] = (
        ("server", "session"),
        ("invite_server", "module"),
    )
    for fixture, scope in scopes:
        if fixture in metafunc.fixturenames:
            metafunc.parametrize(fixture, stores, indirect=True, scope=scope)


def store_settings(request: pytest.FixtureRequest) -> dict[str, str]:
    """The settings that point a server at the store the test is parametrized with."""
    if getattr(request, "param", "sqlite") == "sqlite":
        return {}
    postgres: PostgresProcess = request.getfixturevalue("postgres")
    return {"DATABASE_URL": postgres.new_database()}


@pytest.fixture(scope="session")
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    """One real server (per store) shared by the tests that do not restart or reconfigure it."""
    process = ServerProcess(
        tmp_path_factory.mktemp("shared") / "data", env=store_settings(request)
    ).start()
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
