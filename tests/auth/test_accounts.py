"""Registering and signing in, over HTTP against a real server."""

import httpx
import pytest

from hypersend.client import AuthError, ConflictError, HyperSendClient, InvalidInput
from tests.support.accounts import PASSWORD, unique_email
from tests.support.server import ServerProcess


async def test_register_returns_the_new_account_with_a_normalized_email(
    server: ServerProcess,
) -> None:
    email = unique_email("Mixed")
    async with httpx.AsyncClient(base_url=server.url) as http:
        response = await http.post(
            "/auth/register",
            json={"email": f"  {email.upper()} ", "password": PASSWORD, "name": " Ada "},
        )
    assert response.status_code == 201
    body = response.json()
    assert body["email"] == email.lower()
    assert body["name"] == "Ada"
    assert set(body) == {"id", "email", "name", "created_at"}
    assert body["created_at"].endswith("Z")


async def test_duplicate_email_is_409_whatever_its_case(server: ServerProcess) -> None:
    email = unique_email()
    async with HyperSendClient(server.url) as client:
        await client.register(email, PASSWORD, "First")
        with pytest.raises(ConflictError) as caught:
            await client.register(email.upper(), PASSWORD, "Second")
    assert caught.value.code == "email_taken"


async def test_login_gives_a_token_pair_that_opens_users_me(server: ServerProcess) -> None:
    email = unique_email()
    async with HyperSendClient(server.url) as client:
        created = await client.register(email, PASSWORD, "Grace")
        tokens = await client.login(email.upper(), PASSWORD)
        me = await client.me()
    assert tokens.expires_in == 15 * 60
    assert me.id == created.id
    assert me.email == email


async def test_wrong_password_and_unknown_email_are_the_same_401(server: ServerProcess) -> None:
    email = unique_email()
    async with HyperSendClient(server.url) as client:
        await client.register(email, PASSWORD, "Linus")
        with pytest.raises(AuthError) as wrong_password:
            await client.login(email, "not the password")
        with pytest.raises(AuthError) as unknown:
            await client.login(unique_email("nobody"), PASSWORD)
    assert wrong_password.value.detail == unknown.value.detail == "Wrong email or password"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "not-an-email", "password": PASSWORD, "name": "X"}, "email"),
        ({"email": "short@example.test", "password": "1234567", "name": "X"}, "password"),
        ({"email": "blank@example.test", "password": PASSWORD, "name": "   "}, "name"),
        ({"email": "missing@example.test", "password": PASSWORD}, "name"),
        ({"email": 5, "password": PASSWORD, "name": "X"}, "email"),
    ],
)
async def test_invalid_registration_is_422_and_stores_nothing(
    server: ServerProcess, body: dict[str, object], field: str
) -> None:
    async with HyperSendClient(server.url) as client:
        with pytest.raises(InvalidInput) as caught:
            await client.api.json("POST", "/auth/register", json=body, authenticated=False)
        assert caught.value.status == 422
        assert caught.value.code == "validation_error"
        assert field in caught.value.detail
        assert any(field in problem["loc"] for problem in caught.value.problems)
        if isinstance(body.get("email"), str) and "@" in str(body["email"]):
            with pytest.raises(AuthError):
                await client.login(str(body["email"]), PASSWORD)
