"""Connecting to Redis, failing with a message that names the setting to fix."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from hypersend.urls import redacted

CONNECT_TIMEOUT = 5.0
COMMAND_TIMEOUT = 5.0

# What a lost or unreachable Redis raises through redis-py.
REDIS_FAILURES = (RedisError, OSError, TimeoutError)


T = TypeVar("T")


class RedisUnavailable(Exception):
    """Redis could not be reached at start-up."""


async def connect_redis(url: str) -> Redis:
    """A client for `url` that has answered a PING.

    Commands are not retried behind our back: a lost connection must be seen (the event bus
    closes its sockets when it loses Redis, so that no client silently misses events)."""
    try:
        client = Redis.from_url(
            url,
            retry=Retry(NoBackoff(), 0),
            socket_connect_timeout=CONNECT_TIMEOUT,
            socket_timeout=COMMAND_TIMEOUT,
        )
    except ValueError as exc:
        raise RedisUnavailable(f"REDIS_URL is not a Redis URL ({redacted(url)}): {exc}") from exc
    try:
        await asyncio.wait_for(client.ping(), CONNECT_TIMEOUT)
    except REDIS_FAILURES as exc:
        await client.aclose()
        raise RedisUnavailable(
            f"Cannot reach Redis at REDIS_URL={redacted(url)}: {exc or type(exc).__name__}"
        ) from exc
    return client


async def with_fresh_connection(command: Callable[[], Awaitable[T]]) -> T:
    """Run a Redis command, once more if it fails: after Redis restarts, each pooled
    connection fails its first command, and the second attempt opens a fresh one."""
    try:
        return await command()
    except REDIS_FAILURES:
        return await command()
