"""The signed-in state of one app instance: which server, whose tokens, kept in the
platform's client storage (Flet's SharedPreferences) so that a restart stays signed in."""

import asyncio
import json
from typing import Protocol

from hypersend.client import HyperSendClient, Tokens, UserInfo

SERVER_KEY = "hypersend.server"
TOKENS_KEY = "hypersend.tokens"


class Preferences(Protocol):
    """The part of `flet.SharedPreferences` the app uses."""

    async def get(self, key: str) -> object: ...

    async def set(self, key: str, value: str) -> bool: ...

    async def remove(self, key: str) -> bool: ...


class AppSession:
    def __init__(
        self,
        preferences: Preferences,
        default_server: str,
        *,
        on_behalf_of: tuple[str, str] | None = None,
    ) -> None:
        """`on_behalf_of`: in the web app, the browser's (address, user agent), so that the
        server counts sign-in attempts per person rather than per web app."""
        self._preferences = preferences
        self._on_behalf_of = on_behalf_of
        self.server = default_server
        self.client = HyperSendClient(default_server, on_behalf_of=on_behalf_of)
        self.me: UserInfo | None = None
        self._saving: asyncio.Task[bool] | None = None  # kept so the save is not collected

    async def restore(self) -> bool:
        """Load the saved server and session; True when still signed in."""
        saved_server = await self._preferences.get(SERVER_KEY)
        if isinstance(saved_server, str) and saved_server:
            self.server = saved_server
        saved = await self._preferences.get(TOKENS_KEY)
        tokens = Tokens.from_json(json.loads(saved)) if isinstance(saved, str) and saved else None
        await self._connect(tokens)
        if tokens is None:
            return False
        try:
            self.me = await self.client.me()
        except Exception:
            await self._forget_tokens()
            return False
        return True

    async def set_server(self, url: str) -> None:
        self.server = url.strip().rstrip("/")
        await self._preferences.set(SERVER_KEY, self.server)
        await self._connect(None)

    async def registration_policy(self) -> str:
        return await self.client.registration_policy()

    async def register(self, email: str, password: str, name: str, invite_code: str) -> None:
        await self.client.register(email, password, name, invite_code=invite_code or None)
        await self.sign_in(email, password)

    async def sign_in(self, email: str, password: str) -> None:
        await self.client.login(email, password)
        self.me = await self.client.me()

    async def sign_out(self) -> None:
        try:
            await self.client.logout()
        finally:
            await self._forget_tokens()
            self.me = None

    async def close(self) -> None:
        await self.client.close()

    async def _connect(self, tokens: Tokens | None) -> None:
        await self.client.close()
        self.client = HyperSendClient(
            self.server, tokens=tokens, on_tokens=self._remember, on_behalf_of=self._on_behalf_of
        )

    def _remember(self, tokens: Tokens | None) -> None:
        """Called by the client on every new token pair (sign-in, refresh, sign-out)."""
        value = json.dumps(tokens.to_json()) if tokens else ""
        self._saving = asyncio.get_running_loop().create_task(
            self._preferences.set(TOKENS_KEY, value)
        )

    async def _forget_tokens(self) -> None:
        await self._preferences.remove(TOKENS_KEY)
