"""Token rotation, theft detection, logout and revocation."""

import httpx
import pytest

from hypersend.client import AuthError, HyperSendClient, Tokens
from tests.support.accounts import PASSWORD, unique_email
from tests.support.server import ServerProcess


async def _status_of_me(url: str, access_token: str) -> int:
    async with httpx.AsyncClient(base_url=url) as http:
        response = await http.get("/users/me", headers={"Authorization": f"Bearer {access_token}"})
        return response.status_code


async def _refresh(url: str, refresh_token: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=url) as http:
        return await http.post("/auth/refresh", json={"refresh_token": refresh_token})


async def test_refresh_rotates_the_pair(alice: HyperSendClient) -> None:
    first = alice.tokens
    assert first is not None
    second = await alice.refresh()
    assert second.refresh_token != first.refresh_token
    assert second.access_token != first.access_token
    assert (await alice.me()).email.startswith("alice")


async def test_a_used_refresh_token_revokes_the_whole_session(
    server: ServerProcess, alice: HyperSendClient
) -> None:
    stolen = alice.tokens
    assert stolen is not None
    fresh = await alice.refresh()

    replay = await _refresh(server.url, stolen.refresh_token)
    assert replay.status_code == 401
    assert replay.json()["code"] == "token_reused"

    assert await _status_of_me(server.url, fresh.access_token) == 401
    assert (await _refresh(server.url, fresh.refresh_token)).status_code == 401


async def test_logout_ends_access_and_refresh_tokens_at_once(
    server: ServerProcess, alice: HyperSendClient
) -> None:
    tokens = alice.tokens
    assert tokens is not None
    await alice.logout()
    assert alice.tokens is None
    assert await _status_of_me(server.url, tokens.access_token) == 401
    response = await _refresh(server.url, tokens.refresh_token)
    assert response.status_code == 401
    assert response.json() == {"detail": "Session has ended", "code": "session_ended"}


async def test_logout_of_one_device_keeps_the_others(server: ServerProcess) -> None:
    email = unique_email()
    async with HyperSendClient(server.url) as phone, HyperSendClient(server.url) as laptop:
        await phone.register(email, PASSWORD, "Two Devices")
        await phone.login(email, PASSWORD)
        await laptop.login(email, PASSWORD)
        await phone.logout()
        assert (await laptop.me()).email == email


async def test_client_refreshes_an_expired_access_token_by_itself(
    server: ServerProcess, alice: HyperSendClient
) -> None:
    tokens = alice.tokens
    assert tokens is not None
    alice.api.tokens = Tokens("not.a.jwt", tokens.refresh_token, tokens.expires_in)
    me = await alice.me()
    assert me.email.startswith("alice")
    assert alice.tokens is not None
    assert alice.tokens.refresh_token != tokens.refresh_token


@pytest.mark.parametrize(
    "header",
    [
        "Bearer garbage",
        "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4Iiwic2lkIjoieSIsInR5cCI6ImFjY2VzcyJ9.",
        "Basic dXNlcjpwYXNz",
        "",
    ],
)
async def test_bad_authorization_is_401_with_the_error_shape(
    server: ServerProcess, header: str
) -> None:
    async with httpx.AsyncClient(base_url=server.url) as http:
        headers = {"Authorization": header} if header else {}
        response = await http.get("/users/me", headers=headers)
    assert response.status_code == 401
    assert set(response.json()) == {"detail", "code"}
    assert response.headers["www-authenticate"] == "Bearer"


async def test_tampered_access_token_is_refused(
    server: ServerProcess, alice: HyperSendClient
) -> None:
    tokens = alice.tokens
    assert tokens is not None
    header, payload, signature = tokens.access_token.split(".")
    flipped = signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB")
    assert await _status_of_me(server.url, f"{header}.{payload}.{flipped}") == 401


async def test_forged_refresh_tokens_are_refused_without_harming_the_session(
    server: ServerProcess, alice: HyperSendClient
) -> None:
    tokens = alice.tokens
    assert tokens is not None
    session_id = tokens.refresh_token.split(".")[0]
    for forged in (f"{session_id}.0.{'0' * 64}", f"{session_id}.x.y", "nonsense", ""):
        response = await _refresh(server.url, forged)
        assert response.status_code == 401, forged
    await alice.refresh()
    async with HyperSendClient(server.url, tokens=Tokens("x", "y", 0)) as stranger:
        with pytest.raises(AuthError):
            await stranger.me()
