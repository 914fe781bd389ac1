"""The event bus of a server of several processes: notices on one Redis pub/sub channel.

Each notice is applied in the process that raised it at once, then published; every other
process applies what it receives (its own notices come back to it and are skipped). Redis
pub/sub delivers at most once, so a process that loses its subscription may have missed
notices: it closes all its `/ws` sockets with a reason (clients reconnect and catch up over
HTTP), refuses new ones, drops every cache, and resubscribes with backoff. `/health` reports
the bus meanwhile; HTTP keeps working.
"""

import asyncio
import contextlib
import json
import logging
import time
from typing import Any

from redis.asyncio import Redis

from hypersend.cluster.redis_client import REDIS_FAILURES, with_fresh_connection
from hypersend.ids import new_id
from hypersend.realtime.bus import EventBus, LocalState, Notice
from hypersend.realtime.hub import CLOSE_BUS_LOST

logger = logging.getLogger("hypersend.bus")

CHANNEL = "hypersend:notices"
CONFIRM_TIMEOUT = 2.0
PING_EVERY = 5.0
SILENCE_LIMIT = 3 * PING_EVERY
FIRST_SUBSCRIBE_TIMEOUT = 10.0
BACKOFF_FIRST, BACKOFF_MAX = 0.1, 5.0


class RedisEventBus(EventBus):
    description = "redis"

    def __init__(self, local: LocalState, redis: Redis, *, origin: str) -> None:
        super().__init__(local)
        self._redis = redis
        self._origin = origin
        self._subscribed = asyncio.Event()
        self._confirmations: dict[str, asyncio.Future[None]] = {}
        self._listener: asyncio.Task[None] | None = None

    @property
    def connected(self) -> bool:
        return self._subscribed.is_set()

    async def start(self) -> None:
        self._listener = asyncio.create_task(self._listen_forever())
        try:
            await asyncio.wait_for(self._subscribed.wait(), FIRST_SUBSCRIBE_TIMEOUT)
        except TimeoutError:
            await self.close()
            raise

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener

    async def _broadcast(self, notice: Notice, *, confirm: bool = False) -> None:
        self.local.apply(notice)
        envelope: dict[str, Any] = {"origin": self._origin, **notice}
        confirmation: asyncio.Future[None] | None = None
        if confirm and self.connected:
            envelope["confirm"] = confirm_id = new_id()
            confirmation = self._confirmations[confirm_id] = asyncio.Future()
        try:
            message = json.dumps(envelope, separators=(",", ":"))
            await with_fresh_connection(lambda: self._redis.publish(CHANNEL, message))
            if confirmation is not None:
                await asyncio.wait_for(asyncio.shield(confirmation), CONFIRM_TIMEOUT)
        except REDIS_FAILURES as exc:
            logger.warning("Event bus: a %s notice was not published: %r", notice["kind"], exc)
        finally:
            if confirmation is not None:
                self._confirmations.pop(envelope["confirm"], None)

    async def _listen_forever(self) -> None:
        backoff = BACKOFF_FIRST
        while True:
            try:
                await self._listen()
            except REDIS_FAILURES as exc:
                self._lost(exc)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, BACKOFF_MAX)
            if self.connected:
                backoff = BACKOFF_FIRST

    async def _listen(self) -> None:
        async with self._redis.pubsub() as pubsub:
            await pubsub.subscribe(CHANNEL)
            if not self._subscribed.is_set():
                self.local.forget_everything()
                self._subscribed.set()
                logger.info("Event bus: subscribed to Redis")
            heard_at = pinged_at = time.monotonic()
            while True:
                message = await pubsub.get_message(timeout=PING_EVERY)
                now = time.monotonic()
                if message is not None:
                    heard_at = now
                    if message["type"] == "message":
                        self._receive(message["data"])
                if now - heard_at > SILENCE_LIMIT:
                    raise TimeoutError("Redis stopped answering")
                if now - pinged_at >= PING_EVERY:
                    pinged_at = now
                    await pubsub.ping()

    def _receive(self, data: bytes) -> None:
        try:
            envelope = json.loads(data)
        except ValueError:
            logger.warning("Event bus: ignored a notice that is not JSON")
            return
        if envelope.get("origin") != self._origin:
            self.local.apply(envelope)
            return
        confirmation = self._confirmations.get(envelope.get("confirm", ""))
        if confirmation is not None and not confirmation.done():
            confirmation.set_result(None)

    def _lost(self, error: BaseException) -> None:
        if self._subscribed.is_set():
            logger.error("Event bus: lost Redis (%r); closing sockets, reconnecting", error)
        self._subscribed.clear()
        self.local.forget_everything()
        self.local.hub.end_all(CLOSE_BUS_LOST, "Server lost its event bus: reconnect shortly")
