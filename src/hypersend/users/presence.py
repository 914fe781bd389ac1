"""Online and last seen: told live to the people one shares a chat with, unless one hides it.

Whether someone is online comes from the registry of live connections (`realtime/presence`,
shared through Redis when processes are several); when they were last seen is stored with
the account when their last connection closes. Someone who hides their presence is shown to
others as neither online nor ever seen, and nothing about them is announced.
"""

import logging
from dataclasses import replace

from hypersend.clock import utcnow
from hypersend.errors import NotFound
from hypersend.realtime.bus import EventBus
from hypersend.realtime.presence import PresenceRegistry
from hypersend.storage import Storage
from hypersend.storage.models import User
from hypersend.users.schemas import PresenceOut

logger = logging.getLogger("hypersend.presence")


class PresenceService:
    def __init__(self, storage: Storage, bus: EventBus, registry: PresenceRegistry) -> None:
        self._storage = storage
        self._bus = bus
        self._registry = registry

    async def connected(self, user: User) -> str | None:
        """A live connection of the user opened; returns its id (for `disconnected`), or
        None when presence could not be recorded (Redis or the database away: the
        connection works all the same)."""
        try:
            connection_id, first = await self._registry.connected(user.id)
            if first and not user.presence_hidden:
                online = PresenceOut(user_id=user.id, online=True, last_seen=None)
                await self._announce(user.id, online)
        except Exception:
            logger.warning("Presence of %s not recorded", user.id, exc_info=True)
            return None
        return connection_id

    async def disconnected(self, user: User, connection_id: str | None) -> None:
        if connection_id is None:
            return
        try:
            await self._went(user, connection_id)
        except Exception:
            logger.warning("Presence of %s not updated", user.id, exc_info=True)

    async def _went(self, user: User, connection_id: str) -> None:
        if not await self._registry.disconnected(user.id, connection_id):
            return
        now = utcnow()
        await self._storage.users.set_last_seen(user.id, now)
        current = await self._storage.users.get(user.id)
        if current is not None and not current.presence_hidden:
            await self._announce(user.id, PresenceOut(user_id=user.id, online=False, last_seen=now))

    async def of(self, viewer: User, user_id: str) -> PresenceOut:
        """Someone's presence as `viewer` may see it (404 for people they share no chat with)."""
        if user_id != viewer.id and not await self._storage.chats.share_a_chat(viewer.id, user_id):
            raise NotFound("User not found")
        user = await self._storage.users.get(user_id)
        if user is None:
            raise NotFound("User not found")
        if user.presence_hidden and user_id != viewer.id:
            return _hidden(user_id)
        return await self._as_it_is(user)

    async def hide(self, user: User, hidden: bool) -> User:
        """Hide (or show again) one's presence; the others are told at once."""
        fresh = await self._storage.users.get(user.id)  # not a cached copy: all is saved
        if fresh is None:
            raise NotFound("User not found")
        changed = replace(fresh, presence_hidden=hidden)
        await self._storage.users.update(changed)
        await self._bus.user_changed(user.id)
        await self._announce(user.id, _hidden(user.id) if hidden else await self._as_it_is(fresh))
        return changed

    async def _as_it_is(self, user: User) -> PresenceOut:
        online = await self._registry.online(user.id)
        return PresenceOut(
            user_id=user.id, online=online, last_seen=None if online else user.last_seen_at
        )

    async def _announce(self, user_id: str, presence: PresenceOut) -> None:
        contacts = await self._storage.chats.contacts(user_id)
        if contacts:
            await self._bus.publish(
                contacts, {"type": "presence", **presence.model_dump(mode="json")}
            )


def _hidden(user_id: str) -> PresenceOut:
    """What others see of someone who hides their presence."""
    return PresenceOut(user_id=user_id, online=False, last_seen=None)
