"""Who holds a live `/ws` connection, across every process: what "online" means.

A user is online while at least one of their connections is open on a live process. Each
process reports its own connections; the registry answers whether a connection was a user's
first (they came online) or last (they went offline), exactly once however many processes
connect and disconnect at the same moment:

- `LocalPresence` (one process, the embedded default): counts in memory.
- `RedisPresence` (`REDIS_URL`): a set per user of `<process>/<connection>` entries. Adding
  (or removing) an entry and reading the set is one Redis transaction, so of two processes
  racing, exactly one sees the set go from empty to one entry (or back). Entries of a
  process that stopped without removing them (killed) are left out by asking which
  processes are alive (`Coordination.live_nodes`), and dropped when read.
"""

import itertools
from collections import Counter
from collections.abc import Awaitable, Callable, Collection
from typing import Protocol

from redis.asyncio import Redis

LiveNodes = Callable[[Collection[str]], Awaitable[set[str]]]


class PresenceRegistry(Protocol):
    async def connected(self, user_id: str) -> tuple[str, bool]:
        """Record a new connection; return its id and whether it is the user's first."""

    async def disconnected(self, user_id: str, connection_id: str) -> bool:
        """Forget a connection; whether the user has none left."""

    async def online(self, user_id: str) -> bool: ...


class LocalPresence:
    def __init__(self) -> None:
        self._open: Counter[str] = Counter()
        self._numbers = itertools.count()

    async def connected(self, user_id: str) -> tuple[str, bool]:
        self._open[user_id] += 1
        return str(next(self._numbers)), self._open[user_id] == 1

    async def disconnected(self, user_id: str, connection_id: str) -> bool:
        self._open[user_id] -= 1
        if self._open[user_id] > 0:
            return False
        del self._open[user_id]
        return True

    async def online(self, user_id: str) -> bool:
        return self._open[user_id] > 0


class RedisPresence:
    def __init__(self, redis: Redis, node_id: str, live_nodes: LiveNodes) -> None:
        self._redis = redis
        self._node_id = node_id
        self._live_nodes = live_nodes
        self._numbers = itertools.count()

    async def connected(self, user_id: str) -> tuple[str, bool]:
        connection_id = f"{self._node_id}/{next(self._numbers)}"
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.sadd(_key(user_id), connection_id)
            pipe.smembers(_key(user_id))
            _, entries = await pipe.execute()
        live = await self._live(user_id, entries)
        return connection_id, live == {connection_id}

    async def disconnected(self, user_id: str, connection_id: str) -> bool:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.srem(_key(user_id), connection_id)
            pipe.smembers(_key(user_id))
            removed, entries = await pipe.execute()
        return bool(removed) and not await self._live(user_id, entries)

    async def online(self, user_id: str) -> bool:
        return bool(await self._live(user_id, await self._redis.smembers(_key(user_id))))

    async def _live(self, user_id: str, entries: Collection[bytes | str]) -> set[str]:
        """The entries of live processes (those of stopped ones are dropped)."""
        texts = {entry.decode() if isinstance(entry, bytes) else entry for entry in entries}
        nodes = {entry.split("/", 1)[0] for entry in texts}
        alive = await self._live_nodes(nodes - {self._node_id}) | {self._node_id}
        dead = {entry for entry in texts if entry.split("/", 1)[0] not in alive}
        if dead:
            await self._redis.srem(_key(user_id), *dead)
        return texts - dead


def _key(user_id: str) -> str:
    return f"hypersend:presence:{user_id}"
