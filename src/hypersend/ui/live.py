"""One WebSocket per signed-in app: events in, typing notices out, reconnecting by itself
with backoff and telling the app to catch up after each reconnection."""

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable
from typing import Any

import websockets

from hypersend.client import AuthError, EventStream, HyperSendClient, HyperSendError

logger = logging.getLogger("hypersend.app")

EventHandler = Callable[[dict[str, Any]], Awaitable[None]]
MAX_BACKOFF = 30.0


class LiveConnection:
    def __init__(
        self,
        client: HyperSendClient,
        on_event: EventHandler,
        on_reconnected: Callable[[], Awaitable[None]],
        on_signed_out: Callable[[], Awaitable[None]],
    ) -> None:
        self._client = client
        self._on_event = on_event
        self._on_reconnected = on_reconnected
        self._on_signed_out = on_signed_out
        self._stream: EventStream | None = None

    async def run(self) -> None:
        backoff, first = 0.5, True
        while True:
            try:
                async with await self._client.connect_events() as stream:
                    self._stream = stream
                    if not first:
                        await self._on_reconnected()
                    first, backoff = False, 0.5
                    async for event in stream:
                        try:
                            await self._on_event(event)
                        except Exception:  # one bad update must not end live updates
                            logger.exception("Could not show event %s", event.get("type"))
                    if stream.close_code == 4001:  # this session was signed out elsewhere
                        await self._on_signed_out()
                        return
            except AuthError:
                await self._on_signed_out()
                return
            except (HyperSendError, OSError, websockets.WebSocketException) as exc:
                logger.warning("Live connection lost: %s", exc)
            finally:
                self._stream = None
            await asyncio.sleep(backoff * (0.5 + random.random()))
            backoff = min(backoff * 2, MAX_BACKOFF)

    async def typing(self, chat_id: str) -> None:
        if self._stream is not None:
            with contextlib.suppress(websockets.WebSocketException):
                await self._stream.typing(chat_id)
