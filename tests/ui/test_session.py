"""The app's session against a real server: what it keeps in the device's storage makes a
restarted app signed in (with the newest rotated tokens), and signing out forgets it."""

import asyncio
import json

import pytest

from hypersend.client import AuthError, HyperSendClient, RateLimited
from hypersend.ui.session import SERVER_KEY, TOKENS_KEY, AppSession
from tests.support.accounts import PASSWORD, unique_email
from tests.support.device import DeviceStorage
from tests.support.server import ServerProcess


async def settle() -> None:
    """Let the session's background save of new tokens run."""
    for _ in range(3):
        await asyncio.sleep(0)


async def registered(server: ServerProcess, storage: DeviceStorage) -> tuple[AppSession, str]:
    app = AppSession(storage, "http://127.0.0.1:1")  # a default the user then changes
    await app.set_server(server.url)
    email = unique_email("phone")
    await app.register(email, PASSWORD, "Pat Phone", "")
    await settle()
    return app, email


async def test_a_restarted_app_is_still_signed_in(server: ServerProcess) -> None:
    storage = DeviceStorage()
    first, email = await registered(server, storage)
    assert storage.values[SERVER_KEY] == server.url
    assert json.loads(storage.values[TOKENS_KEY])["refresh_token"]
    await first.close()

    again = AppSession(storage, "http://127.0.0.1:1")
    assert await again.restore()
    assert again.server == server.url
    assert again.me is not None
    assert again.me.email == email
    await again.close()


async def test_rotated_tokens_are_kept_so_the_next_start_does_not_replay_old_ones(
    server: ServerProcess,
) -> None:
    storage = DeviceStorage()
    app, _ = await registered(server, storage)
    before = json.loads(storage.values[TOKENS_KEY])
    # The access token runs out: the client refreshes by itself, and the app saves the pair.
    tokens = app.client.api.tokens
    assert tokens is not None
    app.client.api.tokens = type(tokens)("expired", tokens.refresh_token, 0)
    await app.client.me()
    await settle()
    after = json.loads(storage.values[TOKENS_KEY])
    assert after["refresh_token"] != before["refresh_token"]
    await app.close()
    # Restarting with the saved (newest) refresh token works; the old one would have been a
    # replay, which ends the session.
    restarted = AppSession(storage, server.url)
    assert await restarted.restore()
    restarted.client.api.tokens = type(tokens)("expired", after["refresh_token"], 0)
    assert (await restarted.client.me()).name == "Pat Phone"
    await restarted.close()


async def test_signing_out_forgets_the_session_on_the_device_and_the_server(
    server: ServerProcess,
) -> None:
    storage = DeviceStorage()
    app, email = await registered(server, storage)
    saved = json.loads(storage.values[TOKENS_KEY])
    await app.sign_out()
    await settle()
    assert not storage.values.get(TOKENS_KEY)
    assert app.me is None
    await app.close()
    assert not await AppSession(storage, server.url).restore()
    # The tokens it had are dead on the server too.
    stale = HyperSendClient(server.url)
    refreshed = await stale.api.http.post(
        "/auth/refresh", json={"refresh_token": saved["refresh_token"]}
    )
    assert refreshed.status_code == 401
    await stale.close()
    # Signing in again on the same device works.
    back = AppSession(storage, server.url)
    await back.restore()
    await back.sign_in(email, PASSWORD)
    assert back.me is not None
    await back.close()


async def test_damaged_saved_tokens_mean_signed_out(server: ServerProcess) -> None:
    storage = DeviceStorage()
    storage.values[SERVER_KEY] = server.url
    storage.values[TOKENS_KEY] = json.dumps(
        {"access_token": "x", "refresh_token": "y.1.z", "expires_in": 1}
    )
    app = AppSession(storage, "http://127.0.0.1:1")
    assert not await app.restore()
    assert TOKENS_KEY not in storage.values
    assert app.server == server.url
    await app.close()


async def test_the_web_app_signs_people_in_on_their_own_behalf(own_server: ServerProcess) -> None:
    """The web app's host reaches the server from a trusted address (loopback here): each
    browser's attempts count for that browser, not for everyone using the web app."""
    own_server.env["LOGIN_MAX_FAILURES_PER_CLIENT"] = "2"
    own_server.start()
    email = unique_email("web")
    setup = AppSession(DeviceStorage(), own_server.url)
    await setup.register(email, PASSWORD, "Web Person", "")
    await setup.close()
    guesser = AppSession(DeviceStorage(), own_server.url, on_behalf_of=("198.51.100.5", "Bot"))
    for _ in range(2):
        with pytest.raises(AuthError):
            await guesser.sign_in(unique_email("spray"), "guess")
    with pytest.raises(RateLimited):
        await guesser.sign_in(email, PASSWORD)
    person = AppSession(DeviceStorage(), own_server.url, on_behalf_of=("192.0.2.44", "Firefox"))
    await person.sign_in(email, PASSWORD)
    assert person.me is not None
    for app in (guesser, person):
        await app.close()
