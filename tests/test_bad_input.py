"""Malformed requests get the contract's 4xx error shape, never a 500."""

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import jwt
import pytest

from hypersend.client import HyperSendClient
from tests.support.files import random_file
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


async def test_every_422_has_one_sentence_and_the_problems_listed(
    http: httpx.AsyncClient,
) -> None:
    response = await http.post(
        "/auth/register", json={"email": "not an email", "password": "short", "name": "N"}
    )
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "validation_error"
    assert isinstance(body["detail"], str)
    assert "password" in body["detail"]
    assert "email" in body["detail"]
    assert {tuple(problem["loc"]) for problem in body["errors"]} >= {
        ("body", "password"),
        ("body", "email"),
    }


LONE_SURROGATE = '"\\ud800"'


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/messages/", '{"chat_id": "c", "text": ' + LONE_SURROGATE + "}"),
        ("/messages/", '{"chat_id": ' + LONE_SURROGATE + ', "text": "hi"}'),
        ("/chats/", '{"type": "group", "title": ' + LONE_SURROGATE + ', "member_ids": []}'),
        ("/chats/", '{"type": "group", "title": "t", "member_ids": [' + LONE_SURROGATE + "]}"),
        ("/files/upload/start", '{"filename": "a' + LONE_SURROGATE[1:] + ', "size": 5}'),
        ("/p2p/transfers", '{"receiver_id": ' + LONE_SURROGATE + ', "filename": "a", "size": 1}'),
        ("/auth/login", '{"email": ' + LONE_SURROGATE + ', "password": "x"}'),
    ],
)
async def test_text_that_is_not_unicode_is_422_in_any_field(
    http: httpx.AsyncClient, alice: HyperSendClient, path: str, body: str
) -> None:
    response = await http.post(
        path,
        content=body.encode(),
        headers={**alice.api.auth_headers(), "Content-Type": "application/json"},
    )
    assert response.status_code == 422, response.text
    assert "surrogate" in response.json()["detail"]


async def test_a_valid_surrogate_pair_is_an_emoji(
    alice: HyperSendClient, bob: HyperSendClient, http: httpx.AsyncClient
) -> None:
    chat = await alice.open_direct_chat((await bob.me()).id)
    response = await http.post(
        "/messages/",
        content=b'{"chat_id": "' + chat.id.encode() + b'", "text": "\\ud83d\\ude00"}',
        headers={**alice.api.auth_headers(), "Content-Type": "application/json"},
    )
    assert response.status_code == 201
    assert response.json()["text"] == "\U0001f600"


@pytest.mark.parametrize("token", ["x.²³.abc", "x.٣.abc", "x." + "9" * 40 + ".abc", "x.1.ünïcode"])
async def test_refresh_tokens_with_odd_numbers_are_401(http: httpx.AsyncClient, token: str) -> None:
    response = await http.post("/auth/refresh", json={"refresh_token": token})
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"


@pytest.mark.parametrize(
    ("range_header", "status"),
    [
        ("bytes=" + "9" * 5000 + "-", 400),
        ("bytes=0-" + "9" * 5000, 400),
        ("bytes=-" + "9" * 30, 400),
        ("bytes=٣-", 400),
        ("bytes=²-", 400),
        ("bytes=99999999999999999-", 416),
    ],
)
async def test_absurd_ranges_are_4xx(
    alice: HyperSendClient, http: httpx.AsyncClient, tmp_path: Path, range_header: str, status: int
) -> None:
    info = await alice.upload_file(random_file(tmp_path / "r.bin", 1000))
    response = await http.get(
        f"/files/download/{info.file_id}",
        headers=[
            *((name.encode(), value.encode()) for name, value in alice.api.auth_headers().items()),
            (b"Range", range_header.encode()),
        ],
    )
    assert response.status_code == status
    assert response.json()["code"] in ("bad_range", "range_not_satisfiable")


@pytest.mark.parametrize(
    "query", ["expires=" + "9" * 5000 + "&sig=ab", "expires=1&sig=ünïcode", "expires=-1&sig=a"]
)
async def test_malformed_signed_links_are_4xx(
    alice: HyperSendClient, http: httpx.AsyncClient, tmp_path: Path, query: str
) -> None:
    info = await alice.upload_file(random_file(tmp_path / "s.bin", 10))
    response = await http.get(f"/files/download/{info.file_id}?{query}")
    assert 400 <= response.status_code < 500
    assert set(response.json()) >= {"detail", "code"}


@pytest.mark.parametrize(
    "mime", ["image/pngé", "text/plain\r\nX-Evil: 1", "a/b\u0000", "nonsense", "/x", ""]
)
async def test_a_mime_that_is_not_a_media_type_is_refused_at_start(
    alice: HyperSendClient, http: httpx.AsyncClient, mime: str
) -> None:
    response = await http.post(
        "/files/upload/start",
        json={"filename": "a.bin", "size": 10, "mime": mime},
        headers=alice.api.auth_headers(),
    )
    assert response.status_code == 422
    assert "mime" in response.json()["detail"]


async def test_swagger_ui_works_offline(http: httpx.AsyncClient) -> None:
    page = (await http.get("/docs")).text
    assert "cdn." not in page
    assets = re.findall(r"""(?:src|href)=["'](/[^"']+)["']""", page)
    assert any(asset.endswith("swagger-ui-bundle.js") for asset in assets)
    for asset in assets:
        answer = await http.get(asset)
        assert answer.status_code == 200, asset
        assert len(answer.content) > 100


async def test_operation_ids_are_unique(http: httpx.AsyncClient) -> None:
    spec = (await http.get("/openapi.json")).json()
    ids = [op["operationId"] for path in spec["paths"].values() for op in path.values()]
    assert len(ids) == len(set(ids))


async def test_a_body_that_stops_arriving_ends_with_408(own_server: ServerProcess) -> None:
    own_server.env["BODY_STALL_SECONDS"] = "1"
    own_server.start()
    reader, writer = await asyncio.open_connection("127.0.0.1", own_server.port)
    try:
        writer.write(
            b"POST /auth/login HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
            b"Content-Length: 1000\r\n\r\n" + b'{"email": "'
        )
        await writer.drain()
        async with asyncio.timeout(10):
            head = await reader.readuntil(b"\r\n\r\n")
    finally:
        writer.close()
    assert head.startswith(b"HTTP/1.1 408")
