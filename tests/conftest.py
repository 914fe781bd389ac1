from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Literal

import pytest

from hypersend.client import HyperSendClient
from tests.support.accounts import signed_in
from tests.support.postgres import PostgresProcess
from tests.support.s3 import S3Server
from tests.support.server import ServerProcess, free_port

# The core flows (accounts, chats, messages, files, transfers, administration) run against
# each SQL store, and the files flow also with its bytes in a bucket (S3, with SQLite);
# everything else against the embedded default. A files test that restarts its own server
# runs with each file store, unless it is about the disk itself (`disk_store`). Downloads also
# run with the bytes sent by the download port (`DOWNLOAD_PORT`, after a redirect), and
# uploads with the client's chunks taken by the upload port (`UPLOAD_PORT`).
CORE_FLOWS = ("auth", "chats", "messages", "files", "transfers", "admin", "users")
STORES = ("sqlite", "postgresql")
FILE_STORES = ["disk", "s3"]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    flow = metafunc.definition.path.parent.name
    stores = list(STORES) if flow in CORE_FLOWS else ["sqlite"]
    if flow == "files":
        stores.append("s3")
    if metafunc.definition.path.name == "test_downloads.py":
        stores.append("download_port")
    if metafunc.definition.path.name == "test_uploads.py":
        stores.append("upload_port")
    scopes: tuple[tuple[str, Literal["session", "module"]], ...] = (
        ("server", "session"),
        ("invite_server", "module"),
    )
    for fixture, scope in scopes:
        if fixture in metafunc.fixturenames:
            metafunc.parametrize(fixture, stores, indirect=True, scope=scope)
    if "own_server" in metafunc.fixturenames and flow == "files":
        about_disk = metafunc.definition.get_closest_marker("disk_store") is not None
        metafunc.parametrize("own_server", ["disk"] if about_disk else FILE_STORES, indirect=True)


def store_settings(request: pytest.FixtureRequest) -> dict[str, str]:
    """The settings that point a server at the store the test is parametrized with."""
    store = getattr(request, "param", "sqlite")
    if store == "postgresql":
        postgres: PostgresProcess = request.getfixturevalue("postgres")
        return {"DATABASE_URL": postgres.new_database()}
    if store == "s3":
        s3: S3Server = request.getfixturevalue("s3")
        return s3.settings(s3.new_bucket())
    if store == "download_port":
        return {"DOWNLOAD_PORT": str(free_port())}
    if store == "upload_port":
        return {"UPLOAD_PORT": str(free_port())}
    return {}


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


@pytest.fixture(scope="session")
def s3() -> Iterator[S3Server]:
    """One S3 implementation (moto in server mode) for the session; tests take fresh buckets."""
    process = S3Server().start()
    yield process
    process.stop()


@pytest.fixture
def own_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ServerProcess]:
    """A server of the test's own, free to be restarted or killed (not started yet)."""
    process = ServerProcess(tmp_path / "data", env=store_settings(request))
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
