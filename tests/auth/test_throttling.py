"""Failed sign-ins are throttled per account and per client address."""

import pytest

from hypersend.client import AuthError, HyperSendClient, RateLimited
from tests.support.accounts import PASSWORD, unique_email
from tests.support.server import ServerProcess


async def test_repeated_failures_for_one_account_get_429_with_retry_after(
    server: ServerProcess,
) -> None:
    email = unique_email()
    async with HyperSendClient(server.url) as client:
        await client.register(email, PASSWORD, "Targeted")
        for _ in range(5):
            with pytest.raises(AuthError):
                await client.login(email, "guess-guess")
        with pytest.raises(RateLimited) as caught:
            await client.login(email, PASSWORD)
    assert 0 < caught.value.retry_after <= 900


async def test_a_success_clears_the_account_failures(server: ServerProcess) -> None:
    email = unique_email()
    async with HyperSendClient(server.url) as client:
        await client.register(email, PASSWORD, "Forgetful")
        for _round in range(3):
            for _ in range(4):
                with pytest.raises(AuthError):
                    await client.login(email, "guess-guess")
            await client.login(email, PASSWORD)


async def test_one_client_guessing_many_accounts_is_throttled(own_server: ServerProcess) -> None:
    own_server.env["LOGIN_MAX_FAILURES_PER_CLIENT"] = "4"
    own_server.start()
    async with HyperSendClient(own_server.url) as client:
        for _ in range(4):
            with pytest.raises(AuthError):
                await client.login(unique_email("spray"), "guess-guess")
        with pytest.raises(RateLimited):
            await client.login(unique_email("spray"), "guess-guess")
