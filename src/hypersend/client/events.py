"""The live event stream (`/ws`): one connection, or a following stream that reconnects."""

import asyncio
import contextlib
import json
import random
from collections.abc import AsyncIterator
from typing import Any, Self

from hypersend.client.errors import ServerUnreachable
from hypersend.client.http import ApiSession
from hypersend.client.websocket_stream import PING_INTERVAL, WebSocketStream, connect_websocket

Event = dict[str, Any]

RECONNECTED: Event = {"type": "reconnected"}


class EventStream:
    """An open `/ws` connection: iterate it for events, send typing notices and pings. It is
    the lean client WebSocket of the P2P relay (`websocket_stream.py`): one client for both,
    through the same proxy and token refresh as every other path."""

    def __init__(self, connection: WebSocketStream) -> None:
        self._connection = connection
        self._keeping_alive = asyncio.create_task(connection.keep_alive(PING_INTERVAL))

    @classmethod
    async def open(cls, api: ApiSession) -> Self:
        try:
            connection = await connect_websocket(api, "/ws")
        except (OSError, TimeoutError) as exc:  # HandshakeRefused is a ConnectionError
            raise ServerUnreachable(f"{api.base_url}: the event stream failed: {exc}") from exc
        stream = cls(connection)
        try:
            ready = await stream._next_frame()
        except BaseException:
            await stream.close()
            raise
        assert ready["type"] == "ready", ready
        return stream

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    def __aiter__(self) -> AsyncIterator[Event]:
        return self._events()

    async def _frames(self) -> AsyncIterator[Event]:
        """Every event the server sends, until it closes the connection."""
        async for item in self._connection.incoming():
            if isinstance(item, str):
                yield json.loads(item)

    async def _events(self) -> AsyncIterator[Event]:
        async for event in self._frames():
            if event.get("type") != "heartbeat":
                yield event

    async def _next_frame(self) -> Event:
        async for event in self._frames():
            return event
        raise EventStreamClosed(self.close_code)

    async def next(self) -> Event:
        """The next event other than a heartbeat; `EventStreamClosed` once the server closed."""
        async for event in self._events():
            return event
        raise EventStreamClosed(self.close_code)

    async def send(self, frame: Event) -> None:
        await self._connection.send_text(json.dumps(frame))

    async def typing(self, chat_id: str) -> None:
        await self.send({"type": "typing", "chat_id": chat_id})

    @property
    def close_code(self) -> int | None:
        return self._connection.close_code

    async def close(self) -> None:
        self._keeping_alive.cancel()
        await self._connection.close()


class EventStreamClosed(ConnectionError):
    def __init__(self, code: int | None) -> None:
        super().__init__(f"The event stream closed ({code})")
        self.code = code


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
            with contextlib.suppress(ConnectionError):
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
            except (ServerUnreachable, OSError):
                pass
            finally:
                self._stream = None
            await asyncio.sleep(backoff * (0.5 + random.random()))
            backoff = min(backoff * 2, self._max_backoff)
