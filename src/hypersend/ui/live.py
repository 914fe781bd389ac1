"""One live connection per signed-in app: events in (reconnecting by itself, with a catch-up
after each reconnection), typing notices out, and signing out when the session ends."""

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from hypersend.client import AuthError, HyperSendClient
from hypersend.client.events import RECONNECTED

logger = logging.getLogger("hypersend.app")

EventHandler = Callable[[dict[str, Any]], Awaitable[None]]


class LiveConnection:
    def __init__(
        self,
        client: HyperSendClient,
        on_event: EventHandler,
        on_reconnected: Callable[[], Awaitable[None]],
        on_signed_out: Callable[[], Awaitable[None]],
    ) -> None:
        self._events = client.follow_events()
        self._on_event = on_event
        self._on_reconnected = on_reconnected
        self._on_signed_out = on_signed_out

    async def run(self) -> None:
        try:
            async for event in self._events:
                try:
                    if event == RECONNECTED:
                        await self._on_reconnected()
                    else:
                        await self._on_event(event)
                except Exception:  # one bad update must not end live updates
                    logger.exception("Could not show event %s", event.get("type"))
        except AuthError:  # the session ended: signed out here or elsewhere, or disabled
            await self._on_signed_out()

    async def typing(self, chat_id: str) -> None:
        await self._events.typing(chat_id)
