from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from hypersend.client import HyperSendClient
from tests.conftest import store_settings
from tests.support.accounts import invited, signed_in
from tests.support.server import ServerProcess


@pytest.fixture(scope="module")
def invite_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    """A server with the default policy: its first account is the admin, then invites only."""
    process = ServerProcess(
        tmp_path_factory.mktemp("invite") / "data",
        env=store_settings(request),
        registration_policy=None,
    ).start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
async def admin(invite_server: ServerProcess) -> AsyncIterator[HyperSendClient]:
    client = await signed_in(invite_server.url, "Admin Istrator")
    assert (await client.me()).is_admin
    yield client
    await client.close()


@pytest.fixture
async def member(
    invite_server: ServerProcess, admin: HyperSendClient
) -> AsyncIterator[HyperSendClient]:
    client = await invited(invite_server.url, admin, "Mem Ber")
    yield client
    await client.close()


@pytest.fixture
def data_root(invite_server: ServerProcess) -> Path:
    return invite_server.data_root
