"""What the server processes agree on beyond the database.

- The housekeeper: expiry sweeps (uploads, retention, P2P offers) run on one process at a
  time. It holds a lease that it renews; when it dies, another process takes the lease over
  within `LEASE_SECONDS` (a setting).
- Which processes are alive: each process renews a key naming its relay-link address; a
  P2P transfer records the process relaying it, so that only a stopped process's transfers
  are failed.
- Where each P2P transfer's relay lives: the first of its two ends to arrive claims the
  transfer for its process; the other end, wherever it lands, links to that process.

`SoleProcess` is the embedded default (one process decides everything alone);
`RedisCoordination` keeps the same facts in Redis for several processes on several machines.
"""

import asyncio
import logging
from collections.abc import Collection
from typing import Protocol

from redis.asyncio import Redis

from hypersend.cluster.redis_client import REDIS_FAILURES

logger = logging.getLogger("hypersend.cluster")

CLAIM_ATTEMPTS = 3

# Take the lease if it is free, renew it if it is ours; 1 when we hold it afterwards.
_HOLD = """
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
    return 1
end
if not holder then
    redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
    return 1
end
return 0
"""

# Delete the key only if it still holds the value we expect.
_DELETE_IF = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('DEL', KEYS[1])
end
return 0
"""


class Coordination(Protocol):
    node_id: str

    def is_housekeeper(self) -> bool:
        """Whether this process runs the expiry sweeps now."""

    async def live_nodes(self, node_ids: Collection[str]) -> set[str]:
        """Those of `node_ids` whose process is alive."""

    async def claim_relay(self, transfer_id: str) -> tuple[str, str] | None:
        """None when this process relays the transfer (it claimed it, or already had);
        else the relaying process's node id and relay-link address."""

    async def drop_claim(self, transfer_id: str, node_id: str) -> None:
        """Give up `node_id`'s claim on the transfer (its relay ended, or it is unreachable)."""

    async def start(self, link_address: str) -> None:
        """Announce this process, reachable for relay links at `link_address`."""

    async def run_forever(self) -> None:
        """Keep this process's lease, liveness and claims renewed."""

    async def leave(self) -> None:
        """Stopping: hand the lease and the claims over at once instead of letting them lapse."""


class SoleProcess:
    """One process: it is the housekeeper, and relays every transfer itself."""

    def __init__(self, node_id: str) -> None:
        self.node_id = node_id

    def is_housekeeper(self) -> bool:
        return True

    async def live_nodes(self, node_ids: Collection[str]) -> set[str]:
        return {self.node_id} & set(node_ids)

    async def claim_relay(self, transfer_id: str) -> tuple[str, str] | None:
        return None

    async def drop_claim(self, transfer_id: str, node_id: str) -> None:
        return None

    async def start(self, link_address: str) -> None:
        return None

    async def run_forever(self) -> None:
        await asyncio.Event().wait()

    async def leave(self) -> None:
        return None


class RedisCoordination:
    def __init__(self, redis: Redis, node_id: str, *, lease_seconds: float) -> None:
        self.node_id = node_id
        self._redis = redis
        self._lease_ms = int(lease_seconds * 1000)
        self._renew_every = lease_seconds / 3
        self._link_address = ""
        self._housekeeper = False
        self._claims: set[str] = set()
        self._hold = redis.register_script(_HOLD)
        self._delete_if = redis.register_script(_DELETE_IF)

    def is_housekeeper(self) -> bool:
        return self._housekeeper

    async def live_nodes(self, node_ids: Collection[str]) -> set[str]:
        ordered = list(node_ids)
        if not ordered:
            return set()
        addresses = await self._redis.mget([_node_key(node) for node in ordered])
        return {node for node, address in zip(ordered, addresses, strict=True) if address}

    async def claim_relay(self, transfer_id: str) -> tuple[str, str] | None:
        key = _relay_key(transfer_id)
        for _ in range(CLAIM_ATTEMPTS):
            if await self._redis.set(key, self.node_id, nx=True, px=self._lease_ms):
                self._claims.add(transfer_id)
                return None
            holder = await self._redis.get(key)
            if holder is None:
                continue
            holder_id = _text(holder)
            if holder_id == self.node_id:
                self._claims.add(transfer_id)
                return None
            address = await self._redis.get(_node_key(holder_id))
            if address is not None:
                return holder_id, _text(address)
            await self.drop_claim(transfer_id, holder_id)  # its process is gone
        raise ConnectionError("could not agree on where the transfer is relayed")

    async def drop_claim(self, transfer_id: str, node_id: str) -> None:
        if node_id == self.node_id:
            self._claims.discard(transfer_id)
        await self._delete_if(keys=[_relay_key(transfer_id)], args=[node_id])

    async def start(self, link_address: str) -> None:
        self._link_address = link_address
        await self._renew()

    async def run_forever(self) -> None:
        while True:
            await asyncio.sleep(self._renew_every)
            try:
                await self._renew()
            except REDIS_FAILURES as exc:
                if self._housekeeper:
                    logger.warning("Gave up housekeeping: Redis failed (%r)", exc)
                self._housekeeper = False

    async def _renew(self) -> None:
        lease = self._lease_ms
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.set(_node_key(self.node_id), self._link_address, px=lease)
            for transfer_id in self._claims:
                pipe.pexpire(_relay_key(transfer_id), lease)
            await pipe.execute()
        held = await self._hold(keys=["hypersend:housekeeper"], args=[self.node_id, lease])
        if held and not self._housekeeper:
            logger.info("This process now runs the housekeeping")
        self._housekeeper = bool(held)

    async def leave(self) -> None:
        await self._redis.delete(_node_key(self.node_id))
        await self._delete_if(keys=["hypersend:housekeeper"], args=[self.node_id])
        for transfer_id in list(self._claims):
            await self.drop_claim(transfer_id, self.node_id)


def _node_key(node_id: str) -> str:
    return f"hypersend:node:{node_id}"


def _relay_key(transfer_id: str) -> str:
    return f"hypersend:relay:{transfer_id}"


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
