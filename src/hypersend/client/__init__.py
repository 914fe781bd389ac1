"""The one Python client for HyperSend, used by the CLI, the app, the tests and the benchmarks.

async with HyperSendClient("http://127.0.0.1:8000") as client:
    await client.login("ada@example.com", "correct horse")
    me = await client.me()
"""

from typing import Any, Self

from hypersend.client.errors import (
    ApiError,
    AuthError,
    ConflictError,
    HyperSendError,
    InvalidInput,
    NotFoundError,
    PermissionDenied,
    RateLimited,
    ServerUnreachable,
    TooLargeError,
)
from hypersend.client.http import ApiSession, TokenListener
from hypersend.client.models import Tokens, UserInfo

__all__ = [
    "ApiError",
    "AuthError",
    "ConflictError",
    "HyperSendClient",
    "HyperSendError",
    "InvalidInput",
    "NotFoundError",
    "PermissionDenied",
    "RateLimited",
    "ServerUnreachable",
    "Tokens",
    "TooLargeError",
    "UserInfo",
]


class HyperSendClient:
    def __init__(
        self,
        base_url: str,
        *,
        tokens: Tokens | None = None,
        on_tokens: TokenListener | None = None,
    ) -> None:
        self.api = ApiSession(base_url, tokens=tokens, on_tokens=on_tokens)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def close(self) -> None:
        await self.api.close()

    @property
    def base_url(self) -> str:
        return self.api.base_url

    @property
    def tokens(self) -> Tokens | None:
        return self.api.tokens

    async def health(self) -> dict[str, Any]:
        result: dict[str, Any] = await self.api.json("GET", "/health", authenticated=False)
        return result

    async def registration_policy(self) -> str:
        data = await self.api.json("GET", "/auth/policy", authenticated=False)
        return str(data["registration"])

    async def register(
        self, email: str, password: str, name: str, *, invite_code: str | None = None
    ) -> UserInfo:
        body = {"email": email, "password": password, "name": name}
        if invite_code:
            body["invite_code"] = invite_code
        data = await self.api.json("POST", "/auth/register", json=body, authenticated=False)
        return UserInfo.from_json(data)

    async def login(self, email: str, password: str) -> Tokens:
        data = await self.api.json(
            "POST",
            "/auth/login",
            json={"email": email, "password": password},
            authenticated=False,
        )
        tokens = Tokens.from_json(data)
        self.api.set_tokens(tokens)
        return tokens

    async def refresh(self) -> Tokens:
        if self.api.tokens is None:
            raise AuthError(401, "not_signed_in", "Sign in first")
        data = await self.api.json(
            "POST",
            "/auth/refresh",
            json={"refresh_token": self.api.tokens.refresh_token},
            authenticated=False,
        )
        tokens = Tokens.from_json(data)
        self.api.set_tokens(tokens)
        return tokens

    async def logout(self) -> None:
        try:
            await self.api.request("POST", "/auth/logout")
        finally:
            self.api.set_tokens(None)

    async def me(self) -> UserInfo:
        return UserInfo.from_json(await self.api.json("GET", "/users/me"))

    async def search_users(self, query: str) -> list[UserInfo]:
        data = await self.api.json("GET", "/users/search", params={"q": query})
        return [UserInfo.from_json(item) for item in data]
