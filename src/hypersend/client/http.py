"""The client's HTTP core: one httpx session, bearer tokens, transparent refresh."""

import asyncio
import ssl
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx

from hypersend.client.errors import ApiError, AuthError, RateLimited, ServerUnreachable, error_for
from hypersend.client.models import Tokens

TokenListener = Callable[[Tokens | None], None]
T = TypeVar("T")

DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)


def websocket_url(base_url: str, path: str) -> str:
    scheme, rest = base_url.split("://", 1)
    return f"{'wss' if scheme == 'https' else 'ws'}://{rest}{path}"


class ApiSession:
    """Sends requests with the current access token, refreshing it once when it has expired."""

    def __init__(
        self,
        base_url: str,
        *,
        tokens: Tokens | None = None,
        on_tokens: TokenListener | None = None,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        ssl_context: ssl.SSLContext | None = None,
        on_behalf_of: tuple[str, str] | None = None,
    ) -> None:
        """`ssl_context`: how to trust an HTTPS server (e.g. one with a private CA); by
        default the system's certificate authorities. `on_behalf_of`: (address, user agent)
        of the person a web front end acts for, sent as X-Forwarded-For and User-Agent (the
        server believes them only from a trusted proxy, as the web app's host is)."""
        self.base_url = base_url.rstrip("/")
        self.tokens = tokens
        self._on_tokens = on_tokens
        self._refresh_lock = asyncio.Lock()
        self._ssl = ssl_context
        headers = {}
        if on_behalf_of is not None:
            address, user_agent = on_behalf_of
            headers = {"X-Forwarded-For": address, "User-Agent": user_agent or "HyperSend web"}
        self.http = httpx.AsyncClient(
            base_url=self.base_url, timeout=timeout, verify=ssl_context or True, headers=headers
        )

    @property
    def ssl_context(self) -> ssl.SSLContext | None:
        """How HTTPS servers are trusted (None: the system's certificate authorities)."""
        return self._ssl

    async def close(self) -> None:
        await self.http.aclose()

    def set_tokens(self, tokens: Tokens | None) -> None:
        self.tokens = tokens
        if self._on_tokens is not None:
            self._on_tokens(tokens)

    def auth_headers(self) -> dict[str, str]:
        if self.tokens is None:
            raise AuthError(401, "not_signed_in", "Sign in first")
        return {"Authorization": f"Bearer {self.tokens.access_token}"}

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        content: Any = None,
        headers: dict[str, str] | None = None,
        authenticated: bool = True,
    ) -> httpx.Response:
        """Send a request and return the response; raise a typed error for 4xx/5xx."""

        async def send() -> httpx.Response:
            all_headers = dict(headers or {})
            if authenticated:
                all_headers.update(self.auth_headers())
            try:
                response = await self.http.request(
                    method, path, json=json, params=params, content=content, headers=all_headers
                )
            except httpx.TransportError as exc:
                raise ServerUnreachable(f"{self.base_url} could not be reached: {exc}") from exc
            raise_for_error(response)
            return response

        return await (self.with_token(send) if authenticated else send())

    async def with_token(self, attempt: Callable[[], Awaitable[T]]) -> T:
        """Run `attempt`, which sends the current access token. When the server refuses the
        token (`AuthError`: it expired), refresh the tokens once and run it again. Every path
        that signs in (JSON, chunk uploads, downloads, `/ws`, the P2P relay) goes through
        here."""
        sent_with = self.tokens
        try:
            return await attempt()
        except AuthError:
            if not await self.refresh_after_401(sent_with):
                raise
        return await attempt()

    async def json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = await self.request(method, path, **kwargs)
        return response.json() if response.content else None

    async def refresh(self) -> Tokens:
        """Trade the refresh token for new tokens (it rotates: each is good once)."""
        async with self._refresh_lock:
            return await self._trade_refresh_token()

    async def refresh_after_401(self, sent_with: Tokens | None) -> bool:
        """Refresh the tokens once, even when many requests fail at the same moment; False
        (and signed out) when the server refuses the refresh token. A server that is down,
        failing or asking to slow down signs no one out: that error goes to the caller."""
        async with self._refresh_lock:
            if self.tokens is not sent_with:
                return self.tokens is not None
            if self.tokens is None:
                return False
            try:
                await self._trade_refresh_token()
            except ApiError as refused:
                if refused.status >= 500 or isinstance(refused, RateLimited):
                    raise
                self.set_tokens(None)
                return False
            return True

    async def _trade_refresh_token(self) -> Tokens:
        """The one place that posts a refresh token (callers hold the refresh lock, so that
        a rotated token is never sent twice)."""
        if self.tokens is None:
            raise AuthError(401, "not_signed_in", "Sign in first")
        data = await self.json(
            "POST",
            "/auth/refresh",
            json={"refresh_token": self.tokens.refresh_token},
            authenticated=False,
        )
        tokens = Tokens.from_json(data)
        self.set_tokens(tokens)
        return tokens


def raise_for_error(response: httpx.Response) -> None:
    if response.status_code < 400:
        return
    try:
        body: Any = response.json()
    except ValueError:
        body = {"detail": response.text or response.reason_phrase, "code": "error"}
    raise error_for(response.status_code, body, dict(response.headers))
