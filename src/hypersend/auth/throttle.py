"""Failed-login throttling per account and client address, per client, and per account.

A stranger who types wrong passwords for someone's email locks only themselves out: the
tight limit counts failures of one account from one client. Each client also has a limit
across accounts (guessing many accounts), and each account a much higher one across clients
(guessing from many addresses), which still stops brute force without handing anyone a
cheap way to lock the owner out.

The failures are counted in a sliding window: in this process's memory (one process), or in
Redis sorted sets when several processes serve the same users, so that the limits hold for
the server as a whole. If Redis cannot be reached, the process counts in its own memory
until it can, rather than refusing every sign-in.
"""

import hashlib
import logging
import math
import time
import uuid
from collections import deque
from typing import Protocol

from redis.asyncio import Redis

from hypersend.cluster.redis_client import REDIS_FAILURES

logger = logging.getLogger("hypersend.auth")

IDLE_KEYS_LIMIT = 100_000


class FailureCounter(Protocol):
    async def retry_after(self, key: str) -> int:
        """Seconds until `key` may try again; 0 when it may try now."""

    async def record(self, key: str) -> None: ...

    async def clear(self, key: str) -> None: ...


class MemoryFailures:
    """Failures per key in this process's memory."""

    def __init__(self, limit: int, window_seconds: float) -> None:
        self._limit = limit
        self._window = window_seconds
        self._failures: dict[str, deque[float]] = {}

    async def retry_after(self, key: str) -> int:
        failures = self._prune(key, time.monotonic())
        if len(failures) < self._limit:
            return 0
        return math.ceil(failures[0] + self._window - time.monotonic())

    async def record(self, key: str) -> None:
        now = time.monotonic()
        self._prune(key, now).append(now)

    async def clear(self, key: str) -> None:
        self._failures.pop(key, None)

    def _prune(self, key: str, now: float) -> deque[float]:
        failures = self._failures.setdefault(key, deque())
        while failures and failures[0] <= now - self._window:
            failures.popleft()
        if len(self._failures) > IDLE_KEYS_LIMIT:
            self._drop_idle(now)
        return failures

    def _drop_idle(self, now: float) -> None:
        idle = [k for k, v in self._failures.items() if not v or v[-1] <= now - self._window]
        for key in idle:
            del self._failures[key]


class RedisFailures:
    """Failures per key in a Redis sorted set (scores are wall-clock times), shared by every
    process; keys expire with the window."""

    def __init__(self, redis: Redis, name: str, limit: int, window_seconds: float) -> None:
        self._redis = redis
        self._prefix = f"hypersend:login-failures:{name}:"
        self._limit = limit
        self._window = window_seconds
        self._fallback = MemoryFailures(limit, window_seconds)

    async def retry_after(self, key: str) -> int:
        redis_key, now = self._key(key), time.time()
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.zremrangebyscore(redis_key, "-inf", now - self._window)
                pipe.zcard(redis_key)
                pipe.zrange(redis_key, 0, 0, withscores=True)
                _, count, oldest = await pipe.execute()
        except REDIS_FAILURES as exc:
            logger.warning("Sign-in throttling counts in memory: Redis failed (%r)", exc)
            return await self._fallback.retry_after(key)
        if int(count) < self._limit or not oldest:
            return 0
        return max(1, math.ceil(float(oldest[0][1]) + self._window - now))

    async def record(self, key: str) -> None:
        redis_key, now = self._key(key), time.time()
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.zadd(redis_key, {uuid.uuid4().hex: now})
                pipe.expire(redis_key, math.ceil(self._window))
                await pipe.execute()
        except REDIS_FAILURES:
            await self._fallback.record(key)

    async def clear(self, key: str) -> None:
        try:
            await self._redis.delete(self._key(key))
        except REDIS_FAILURES:
            await self._fallback.clear(key)

    def _key(self, key: str) -> str:
        """Emails and addresses are hashed: Redis need not hold them."""
        return self._prefix + hashlib.sha256(key.encode(errors="surrogatepass")).hexdigest()[:32]


class LoginThrottle:
    def __init__(
        self, pairs: FailureCounter, clients: FailureCounter, accounts: FailureCounter
    ) -> None:
        self._pairs = pairs
        self._clients = clients
        self._accounts = accounts

    async def retry_after(self, email: str, client: str) -> int:
        return max(
            await self._pairs.retry_after(_pair(email, client)),
            await self._clients.retry_after(client),
            await self._accounts.retry_after(email),
        )

    async def record_failure(self, email: str, client: str) -> None:
        await self._pairs.record(_pair(email, client))
        await self._clients.record(client)
        await self._accounts.record(email)

    async def record_success(self, email: str, client: str) -> None:
        await self._pairs.clear(_pair(email, client))


def _pair(email: str, client: str) -> str:
    return f"{email}\n{client}"
