"""Malformed requests get the contract's 4xx error shape, never a 500."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import jwt
import pytest

from hypersend.client import HyperSendClient
from tests.support.server import ServerProcess


@pytest.fixture
async def http(server: ServerProcess) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=server.url)


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b"{not json", "application/json"),
        (b"[1, 2, 3]", "application/json"),
        (b'{"email": ["a"], "password": {"x": 1}}', "application/json"),
        (b"\xff\xfe\x00garbage", "application/json"),
        (b"email=a&password=b", "application/x-www-form-urlencoded"),
        (b"", "application/json"),
    ],
)
async def test_malformed_bodies_are_422(
    http: httpx.AsyncClient, content: bytes, content_type: str
) -> None:
    response = await http.post(
        "/auth/login", content=content, headers={"Content-Type": content_type}
    )
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"


async def test_a_json_body_over_one_mib_is_413(http: httpx.AsyncClient) -> None:
    big = b'{"email": "' + b"a" * (1024 * 1024) + b'", "password": "x"}'
    response = await http.post(
        "/auth/login", content=big, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"


async def test_an_oversize_body_without_content_length_is_413(http: httpx.AsyncClient) -> None:
    async def pieces() -> AsyncIterator[bytes]:
        # One byte over the 1 MiB limit: the whole body is on its way before the server
        # answers, so the answer is read rather than lost to a reset connection.
        for _ in range(16):
            yield b"x" * 65536
        yield b"x"

    response = await http.post(
        "/auth/login", content=pieces(), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/no/such/route"), ("DELETE", "/auth/login"), ("GET", "/users/")],
)
async def test_unknown_routes_and_methods_have_the_error_shape(
    http: httpx.AsyncClient, method: str, path: str
) -> None:
    response = await http.request(method, path)
    assert response.status_code in (404, 405)
    assert set(response.json()) == {"detail", "code"}


async def test_an_expired_access_token_is_401_token_expired(
    server: ServerProcess, alice: HyperSendClient, http: httpx.AsyncClient
) -> None:
    assert alice.tokens is not None
    claims = jwt.decode(alice.tokens.access_token, options={"verify_signature": False})
    past = datetime.now(UTC) - timedelta(hours=1)
    claims.update(iat=past, exp=past + timedelta(minutes=15))
    key = (server.data_root / "secret_key").read_text()
    expired = jwt.encode(claims, key, algorithm="HS256")
    response = await http.get("/users/me", headers={"Authorization": f"Bearer {expired}"})
    assert response.status_code == 401
    assert response.json()["code"] == "token_expired"


async def test_a_token_signed_with_another_key_is_401(
    alice: HyperSendClient, http: httpx.AsyncClient
) -> None:
    assert alice.tokens is not None
    claims = jwt.decode(alice.tokens.access_token, options={"verify_signature": False})
    forged = jwt.encode(claims, "some other key of sufficient length!!", algorithm="HS256")
    response = await http.get("/users/me", headers={"Authorization": f"Bearer {forged}"})
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"


async def test_health_reports_database_and_storage(http: httpx.AsyncClient) -> None:
    response = await http.get("/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["database"] == "ok"


async def test_openapi_documents_the_routes(http: httpx.AsyncClient) -> None:
    spec = (await http.get("/openapi.json")).json()
    for path in ("/auth/register", "/auth/login", "/auth/refresh", "/auth/logout", "/users/me"):
        assert path in spec["paths"]
    assert (await http.get("/docs")).status_code == 200
