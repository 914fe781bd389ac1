"""Signed-in callers kept in memory, so that a request costs no database read to
authenticate (every message sent, every chunk, every event connection authenticates).

Correct because everything that ends a session or changes an account goes through
`AuthService` (or calls it), which raises a notice on the event bus after the change is
stored and before it answers; every process (through Redis, when there are several) forgets
the entries concerned. A read that raced the change is not kept (`generation`). The entries
also expire after `TTL_SECONDS`, which bounds how long a change made behind the server's back
(a notice lost with the bus) can go unseen.
"""

import time
from collections import OrderedDict
from dataclasses import dataclass

from hypersend.storage.models import Session, User

TTL_SECONDS = 30.0
CAPACITY = 10_000


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the user and the session their token belongs to."""

    user: User
    session: Session


class PrincipalCache:
    def __init__(self, *, ttl: float = TTL_SECONDS, capacity: int = CAPACITY) -> None:
        self._ttl = ttl
        self._capacity = capacity
        self._entries: OrderedDict[str, tuple[float, Principal]] = OrderedDict()
        self._forgets = 0  # bumped by every forget: a read that raced one is not kept

    def get(self, session_id: str) -> Principal | None:
        entry = self._entries.get(session_id)
        if entry is None:
            return None
        stored_at, principal = entry
        if time.monotonic() - stored_at > self._ttl:
            del self._entries[session_id]
            return None
        self._entries.move_to_end(session_id)
        return principal

    def generation(self) -> int:
        """Take before reading from the database; pass to `put`."""
        return self._forgets

    def put(self, principal: Principal, generation: int) -> None:
        """Keep what was read, unless something was forgotten while it was being read."""
        if generation != self._forgets:
            return
        self._entries[principal.session.id] = (time.monotonic(), principal)
        self._entries.move_to_end(principal.session.id)
        if len(self._entries) > self._capacity:
            self._entries.popitem(last=False)

    def forget_session(self, session_id: str) -> None:
        self._forgets += 1
        self._entries.pop(session_id, None)

    def clear(self) -> None:
        self._forgets += 1
        self._entries.clear()

    def forget_user(self, user_id: str) -> None:
        self._forgets += 1
        for session_id in [s for s, (_, p) in self._entries.items() if p.user.id == user_id]:
            del self._entries[session_id]
