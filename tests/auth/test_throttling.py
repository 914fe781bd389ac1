"""Failed sign-ins are throttled per account and client, per client, and per account."""

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


async def test_behind_a_trusted_proxy_each_real_client_has_its_own_limit(
    own_server: ServerProcess,
) -> None:
    """The tests reach the server from loopback, which is trusted by default, as nginx is."""
    own_server.env["LOGIN_MAX_FAILURES_PER_CLIENT"] = "3"
    own_server.start()
    email = unique_email("proxied")
    async with HyperSendClient(own_server.url) as client:
        await client.register(email, PASSWORD, "Proxied Person")
        guesser = {"X-Forwarded-For": "198.51.100.66"}
        for _ in range(3):
            wrong = await client.api.http.post(
                "/auth/login",
                json={"email": unique_email("spray"), "password": "guess"},
                headers=guesser,
            )
            assert wrong.status_code == 401
        blocked = await client.api.http.post(
            "/auth/login", json={"email": email, "password": PASSWORD}, headers=guesser
        )
        assert blocked.status_code == 429
        # Someone else behind the same proxy signs in as usual.
        other = await client.api.http.post(
            "/auth/login",
            json={"email": email, "password": PASSWORD},
            headers={"X-Forwarded-For": "192.0.2.10"},
        )
        assert other.status_code == 200


async def test_an_untrusted_peer_cannot_pick_its_address(own_server: ServerProcess) -> None:
    own_server.env["LOGIN_MAX_FAILURES_PER_CLIENT"] = "3"
    own_server.env["TRUSTED_PROXIES"] = "192.0.2.1"  # not the tests' loopback address
    own_server.start()
    async with HyperSendClient(own_server.url) as client:
        for attempt in range(4):  # a new made-up address each time does not help
            answer = await client.api.http.post(
                "/auth/login",
                json={"email": unique_email("spray"), "password": "guess"},
                headers={"X-Forwarded-For": f"198.51.100.{attempt}"},
            )
            assert answer.status_code == (429 if attempt == 3 else 401)


async def test_a_stranger_guessing_locks_out_only_themselves(server: ServerProcess) -> None:
    email = unique_email("owner")
    async with HyperSendClient(server.url) as client:
        await client.register(email, PASSWORD, "Owner")

        async def sign_in(password: str, address: str) -> int:
            answer = await client.api.http.post(
                "/auth/login",
                json={"email": email, "password": password},
                headers={"X-Forwarded-For": address},
            )
            return answer.status_code

        stranger, owner = "198.51.100.77", "192.0.2.77"
        assert [await sign_in("guess-guess", stranger) for _ in range(6)] == [401] * 5 + [429]
        assert await sign_in(PASSWORD, stranger) == 429
        assert await sign_in(PASSWORD, owner) == 200


async def test_guessing_one_account_from_many_addresses_hits_its_ceiling(
    own_server: ServerProcess,
) -> None:
    own_server.env["LOGIN_MAX_FAILURES_PER_ACCOUNT"] = "6"
    own_server.start()
    email = unique_email("target")
    async with HyperSendClient(own_server.url) as client:
        await client.register(email, PASSWORD, "Target")
        statuses = []
        for address in range(7):
            answer = await client.api.http.post(
                "/auth/login",
                json={"email": email, "password": "guess-guess"},
                headers={"X-Forwarded-For": f"203.0.113.{address}"},
            )
            statuses.append(answer.status_code)
        assert statuses == [401] * 6 + [429]
