"""Periodic housekeeping jobs, run only by the process that holds the housekeeping lease."""

import asyncio
import logging
from collections.abc import Awaitable, Callable

from hypersend.storage.errors import StorageUnavailable

logger = logging.getLogger("hypersend.jobs")


async def run_every(
    seconds: float, job: Callable[[], Awaitable[object]], *, when: Callable[[], bool]
) -> None:
    """Run `job` every `seconds` while `when()` says this process is the housekeeper. A job
    that fails is logged and tried again next time."""
    while True:
        if when():
            try:
                await job()
            except StorageUnavailable as exc:  # expected while the database restarts
                logger.warning("Housekeeping job %s skipped: %s", _name(job), exc)
            except Exception:
                logger.exception("Housekeeping job %s failed", _name(job))
        await asyncio.sleep(seconds)


def _name(job: Callable[[], Awaitable[object]]) -> str:
    return str(getattr(job, "__qualname__", job))
