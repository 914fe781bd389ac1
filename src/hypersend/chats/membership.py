"""Who is in which chat, kept in memory: every message sent checks the sender's membership
and fans out to the members, and both would otherwise read the database.

Correct because membership changes only through `ChatService`, which raises a notice on
the event bus whenever it creates a chat or changes who is in one; every process (through
Redis, when there are several) forgets that chat's entry. Entries also expire after
`TTL_SECONDS`, a safety net for a notice lost with the bus.
"""

import time
from collections import OrderedDict

from hypersend.storage import Storage

CAPACITY = 10_000
TTL_SECONDS = 60.0


class MembershipCache:
    def __init__(
        self, storage: Storage, *, ttl: float = TTL_SECONDS, capacity: int = CAPACITY
    ) -> None:
        self._storage = storage
        self._ttl = ttl
        self._capacity = capacity
        self._members: OrderedDict[str, tuple[float, frozenset[str]]] = OrderedDict()
        self._forgets = 0  # bumped by every forget: a read that raced one is not kept

    async def members(self, chat_id: str) -> frozenset[str]:
        """The ids of the chat's members (none for a chat that does not exist)."""
        known = self._members.get(chat_id)
        if known is not None and time.monotonic() - known[0] <= self._ttl:
            self._members.move_to_end(chat_id)
            return known[1]
        generation = self._forgets
        members = frozenset(m.user_id for m in await self._storage.chats.members(chat_id))
        if members and generation == self._forgets:  # no entries for chats that do not exist
            self._members[chat_id] = (time.monotonic(), members)
            self._members.move_to_end(chat_id)
            if len(self._members) > self._capacity:
                self._members.popitem(last=False)
        return members

    def forget(self, chat_id: str) -> None:
        self._forgets += 1
        self._members.pop(chat_id, None)

    def clear(self) -> None:
        self._forgets += 1
        self._members.clear()
