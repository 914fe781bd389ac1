"""The event bus of a server of several processes: notices on one Redis pub/sub channel.

Each notice is applied in the process that raised it at once, then published; every other
process applies what it receives. A message is `origin|confirmation|json`: a process skips
its own notices without parsing them, except to learn that a notice it waits on has been
handed out. Publishing is batched: one task sends whatever has queued up in one pipeline, so
under load a notice costs a fraction of a round trip.

Redis pub/sub delivers at most once, so a process that loses its subscription may have missed
notices: it closes all its `/ws` sockets with a reason (clients reconnect and catch up over
HTTP), refuses new ones, drops every cache, and resubscribes with backoff. `/health` reports
the bus meanwhile; HTTP keeps working.
"""

import asyncio
import contextlib
import functools
import json
import logging
import time

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
OUTBOX_LIMIT = 10_000  # notices waiting to be published; beyond it they are dropped
BATCH_LIMIT = 256


class RedisEventBus(EventBus):
    description = "redis"

    def __init__(self, local: LocalState, redis: Redis, *, origin: str) -> None:
        super().__init__(local)
        self._redis = redis
        self._origin = origin.encode()
        self._subscribed = asyncio.Event()
        self._confirmations: dict[bytes, asyncio.Future[None]] = {}
        self._outbox: asyncio.Queue[bytes] = asyncio.Queue(OUTBOX_LIMIT)
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def connected(self) -> bool:
        return self._subscribed.is_set()

    async def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._listen_forever()),
            asyncio.create_task(self._publish_forever()),
        ]
        try:
            await asyncio.wait_for(self._subscribed.wait(), FIRST_SUBSCRIBE_TIMEOUT)
        except TimeoutError:
            await self.close()
            raise

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _broadcast(self, notice: Notice, *, confirm: bool = False) -> None:
        self.local.apply(notice)
        confirm_id = new_id().encode() if confirm and self.connected else b""
        message = b"|".join((self._origin, confirm_id, json.dumps(notice).encode()))
        try:
            self._outbox.put_nowait(message)
        except asyncio.QueueFull:
            logger.warning("Event bus: too many notices waiting; a %s was dropped", notice["kind"])
            return
        if not confirm_id:
            return
        confirmation = self._confirmations[confirm_id] = asyncio.Future()
        try:
            await asyncio.wait_for(confirmation, CONFIRM_TIMEOUT)
        except TimeoutError:
            logger.warning("Event bus: a %s notice was not confirmed in time", notice["kind"])
        finally:
            self._confirmations.pop(confirm_id, None)

    async def _publish_forever(self) -> None:
        while True:
            batch = [await self._outbox.get()]
            while len(batch) < BATCH_LIMIT and not self._outbox.empty():
                batch.append(self._outbox.get_nowait())
            try:
                await with_fresh_connection(functools.partial(self._publish, batch))
            except REDIS_FAILURES as exc:
                logger.warning("Event bus: %d notices were not published: %r", len(batch), exc)

    async def _publish(self, messages: list[bytes]) -> None:
        async with self._redis.pipeline(transaction=False) as pipe:
            for message in messages:
                pipe.publish(CHANNEL, message)
            await pipe.execute()

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
        origin, _, rest = data.partition(b"|")
        confirm_id, _, body = rest.partition(b"|")
        if origin == self._origin:
            confirmation = self._confirmations.get(confirm_id)
            if confirmation is not None and not confirmation.done():
                confirmation.set_result(None)
            return
        try:
            notice = json.loads(body)
        except ValueError:
            logger.warning("Event bus: ignored a notice that is not JSON")
            return
        if isinstance(notice, dict) and "kind" in notice:
            self.local.apply(notice)

    def _lost(self, error: BaseException) -> None:
        if self._subscribed.is_set():
            logger.error("Event bus: lost Redis (%r); closing sockets, reconnecting", error)
        self._subscribed.clear()
        self.local.forget_everything()
        self.local.hub.end_all(CLOSE_BUS_LOST, "Server lost its event bus: reconnect shortly")
