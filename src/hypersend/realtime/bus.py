"""The event bus: how the services tell every server process that something happened.

Two kinds of notice travel on it: events for users' devices (`publish`), and changes after
which each process must drop what it keeps in memory (a session ended, an account changed, a
chat's members changed, a P2P transfer ended). Every notice is applied to this process at
once, by `LocalState`; `EventBus` itself (one process: the embedded default) stops there,
and `RedisEventBus` (`realtime/redis_bus.py`) also hands it to every other process.

Delivery of events is at most once: a device that reconnects catches up over HTTP.
"""

import json
from collections.abc import Iterable
from typing import Any

from hypersend.auth.principals import PrincipalCache
from hypersend.chats.membership import MembershipCache
from hypersend.realtime.hub import ConnectionHub
from hypersend.transfers.relay import RelayRegistry

Event = dict[str, Any]
Notice = dict[str, Any]


class LocalState:
    """What one process keeps in memory that a notice changes: its sockets and caches."""

    def __init__(
        self,
        hub: ConnectionHub,
        principals: PrincipalCache,
        memberships: MembershipCache,
        relays: RelayRegistry,
    ) -> None:
        self.hub = hub
        self.principals = principals
        self.memberships = memberships
        self.relays = relays

    def apply(self, notice: Notice) -> None:
        kind, subject = notice["kind"], notice.get("id", "")
        if kind == "event":
            self.hub.deliver(notice["users"], notice["frame"])
        elif kind == "session_ended":
            self.principals.forget_session(subject)
            self.hub.end_session(subject)
        elif kind == "user_ended":
            self.principals.forget_user(subject)
            self.hub.end_user(subject)
        elif kind == "user_changed":
            self.principals.forget_user(subject)
        elif kind == "chat_changed":
            self.memberships.forget(subject)
        elif kind == "transfer_ended":
            self.relays.end(subject, notice["status"])

    def forget_everything(self) -> None:
        """Notices may have been missed (the bus was lost): read everything afresh."""
        self.principals.clear()
        self.memberships.clear()


class EventBus:
    """The bus of a server that is one process: notices are applied here, and that is all.
    `RedisEventBus` extends it to every process."""

    description = "in-process"

    def __init__(self, local: LocalState) -> None:
        self.local = local

    @property
    def connected(self) -> bool:
        """Whether notices reach every process (always, for one process)."""
        return True

    async def publish(self, user_ids: Iterable[str], event: Event) -> None:
        """Deliver `event` to every open connection of each user; never waits on a client."""
        frame = json.dumps(event, separators=(",", ":"))
        await self._broadcast({"kind": "event", "users": list(set(user_ids)), "frame": frame})

    async def session_ended(self, session_id: str) -> None:
        """The session was revoked: forget it and close the sockets it opened."""
        await self._broadcast({"kind": "session_ended", "id": session_id}, confirm=True)

    async def user_ended(self, user_id: str) -> None:
        """The account's sessions were revoked: forget them and close all its sockets."""
        await self._broadcast({"kind": "user_ended", "id": user_id}, confirm=True)

    async def user_changed(self, user_id: str) -> None:
        """The account changed (name, role, quota, status): read it afresh next time."""
        await self._broadcast({"kind": "user_changed", "id": user_id}, confirm=True)

    async def chat_changed(self, chat_id: str) -> None:
        """Who is in the chat changed: read its members afresh next time."""
        await self._broadcast({"kind": "chat_changed", "id": chat_id}, confirm=True)

    async def transfer_ended(self, transfer_id: str, status: str) -> None:
        """The transfer reached a final status: end its relay wherever it runs."""
        await self._broadcast({"kind": "transfer_ended", "id": transfer_id, "status": status})

    async def start(self) -> None:
        """Begin receiving the other processes' notices."""

    async def close(self) -> None:
        """Stop receiving notices."""

    async def _broadcast(self, notice: Notice, *, confirm: bool = False) -> None:
        """Apply `notice` here and, in a subclass, everywhere else; with `confirm`, return
        only once the other processes have been handed it (a revoked session must fail on
        every process as soon as the revoking request has answered)."""
        self.local.apply(notice)
