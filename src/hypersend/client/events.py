"""The live event stream (`/ws`): one connection, or a following stream that reconnects."""

import asyncio
import contextlib
import json
import random
from collections.abc import AsyncIterator
from typing import Any, Self

import websockets
from websockets.asyncio.client import ClientConnection

from hypersend.client.errors import AuthError, ServerUnreachable
from hypersend.client.http import ApiSession

Event = dict[str, Any]

RECONNECTED: Event = {"type": "reconnected"}


class EventStream:
    """An open `/ws` connection: iterate it for events, send typing notices and pings."""

    def __init__(self, connection: ClientConnection) -> None:
        self._connection = connection

    @classmethod
    async def open(cls, api: ApiSession) -> Self:
        async def connect() -> ClientConnection:
            try:
                return await api.websocket("/ws", ping_interval=20, max_size=2**20)
            except websockets.InvalidStatus as exc:
                status = exc.response.status_code
                raise AuthError(
                    status, "unauthorized", "The event stream refused the token"
                ) from exc
            except OSError as exc:
                raise ServerUnreachable(f"{api.base_url} could not be reached: {exc}") from exc

        connection = await api.with_token(connect)
        ready = json.loads(await connection.recv())
        assert ready["type"] == "ready", ready
        return cls(connection)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    def __aiter__(self) -> AsyncIterator[Event]:
        return self._events()

    async def _events(self) -> AsyncIterator[Event]:
        try:
            async for frame in self._connection:
                event = json.loads(frame)
                if event.get("type") != "heartbeat":
                    yield event
        except websockets.ConnectionClosedError:
            return

    async def next(self) -> Event:
        """The next event other than a heartbeat."""
        while True:
            event: Event = json.loads(await self._connection.recv())
            if event.get("type") != "heartbeat":
                return event

    async def send(self, frame: Event) -> None:
        await self._connection.send(json.dumps(frame))

    async def typing(self, chat_id: str) -> None:
        await self.send({"type": "typing", "chat_id": chat_id})

    @property
    def close_code(self) -> int | None:
        return self._connection.close_code

    async def close(self) -> None:
        await self._connection.close()


class FollowedEvents:
    """Events for as long as the caller iterates, reconnecting with jittered backoff.

    After each reconnection it yields `{"type": "reconnected"}`: the moment to catch up with
    `messages(chat_id, after=...)` and the chat list. It raises `AuthError` once the session
    has ended (signed out, here or elsewhere). `typing()` goes out on the current connection.
    """

    def __init__(self, api: ApiSession, *, max_backoff: float = 30.0) -> None:
        self._api = api
        self._max_backoff = max_backoff
        self._stream: EventStream | None = None

    def __aiter__(self) -> AsyncIterator[Event]:
        return self._events()

    async def typing(self, chat_id: str) -> None:
        """Tell the chat's members that the user is typing (dropped while reconnecting)."""
        if self._stream is not None:
            with contextlib.suppress(websockets.WebSocketException):
                await self._stream.typing(chat_id)

    async def _events(self) -> AsyncIterator[Event]:
        backoff = 0.5
        first = True
        while True:
            try:
                async with await EventStream.open(self._api) as stream:
                    self._stream = stream
                    if not first:
                        yield RECONNECTED
                    first = False
                    backoff = 0.5
                    async for event in stream:
                        yield event
            except (ServerUnreachable, OSError, websockets.WebSocketException):
                pass
            finally:
                self._stream = None
            await asyncio.sleep(backoff * (0.5 + random.random()))
            backoff = min(backoff * 2, self._max_backoff)
