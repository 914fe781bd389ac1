"""The event bus: how the services tell users' devices that something happened.

`InProcessEventBus` hands events straight to this process's connections. A Redis pub/sub
bus for several server processes implements the same protocol: publish to a channel, and
have each process's listener call `ConnectionHub.deliver` with what arrives.
"""

import json
from collections.abc import Iterable
from typing import Any, Protocol

from hypersend.realtime.hub import ConnectionHub

Event = dict[str, Any]


class EventBus(Protocol):
    async def publish(self, user_ids: Iterable[str], event: Event) -> None:
        """Deliver `event` to every open connection of each user; never waits on a client."""

    async def end_session(self, session_id: str) -> None:
        """Close the connections that a (now revoked) session opened."""

    async def end_user(self, user_id: str) -> None:
        """Close every connection of a user (a disabled account)."""


class InProcessEventBus:
    def __init__(self, hub: ConnectionHub) -> None:
        self.hub = hub

    async def publish(self, user_ids: Iterable[str], event: Event) -> None:
        self.hub.deliver(user_ids, json.dumps(event, separators=(",", ":")))

    async def end_session(self, session_id: str) -> None:
        self.hub.end_session(session_id)

    async def end_user(self, user_id: str) -> None:
        self.hub.end_user(user_id)
