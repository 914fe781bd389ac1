"""Users and sessions live in the database, and the signing key under DATA_ROOT."""

import stat

from hypersend.client import HyperSendClient
from tests.support.accounts import PASSWORD, unique_email
from tests.support.server import ServerProcess


async def test_restart_keeps_users_sessions_and_the_generated_key(
    own_server: ServerProcess,
) -> None:
    own_server.start()
    email = unique_email()
    async with HyperSendClient(own_server.url) as client:
        await client.register(email, PASSWORD, "Persistent")
        await client.login(email, PASSWORD)
        own_server.restart()
        assert (await client.me()).email == email
        await client.refresh()
        assert (await client.me()).email == email
    key_file = own_server.data_root / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


async def test_a_configured_secret_key_is_used_instead_of_a_generated_one(
    own_server: ServerProcess,
) -> None:
    own_server.env["SECRET_KEY"] = "configured-key-configured-key-configured-key"
    own_server.start()
    async with HyperSendClient(own_server.url) as client:
        email = unique_email()
        await client.register(email, PASSWORD, "Configured")
        await client.login(email, PASSWORD)
        assert (await client.me()).email == email
    assert not (own_server.data_root / "secret_key").exists()
