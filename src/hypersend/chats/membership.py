"""Who is in which chat, kept in memory: every message sent checks the sender's membership
and fans out to the members, and both would otherwise read the database.

Correct because membership changes only through `ChatService`, which forgets the chat's
entry whenever it creates a chat or changes who is in one. A server of several processes
must forget through the event bus instead.
"""

from collections import OrderedDict

from hypersend.storage import Storage

CAPACITY = 10_000


class MembershipCache:
    def __init__(self, storage: Storage, *, capacity: int = CAPACITY) -> None:
        self._storage = storage
        self._capacity = capacity
        self._members: OrderedDict[str, frozenset[str]] = OrderedDict()
        self._forgets = 0  # bumped by every forget: a read that raced one is not kept

    async def members(self, chat_id: str) -> frozenset[str]:
        """The ids of the chat's members (none for a chat that does not exist)."""
        known = self._members.get(chat_id)
        if known is not None:
            self._members.move_to_end(chat_id)
            return known
        generation = self._forgets
        members = frozenset(m.user_id for m in await self._storage.chats.members(chat_id))
        if members and generation == self._forgets:  # no entries for chats that do not exist
            self._members[chat_id] = members
            if len(self._members) > self._capacity:
                self._members.popitem(last=False)
        return members

    def forget(self, chat_id: str) -> None:
        self._forgets += 1
        self._members.pop(chat_id, None)
