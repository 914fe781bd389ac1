"""Work on a worker thread that must be over before what it uses goes away."""

import asyncio
import contextlib
from collections.abc import Callable
from concurrent.futures import Executor
from typing import TypeVar

T = TypeVar("T")


async def to_the_end(
    executor: Executor | None,
    work: Callable[..., T],
    *args: object,
    stop: Callable[[], None] | None = None,
) -> T:
    """`work(*args)` on a thread of `executor` (None: the loop's default), awaited to its end
    even when the awaiting task is cancelled, which then goes on being cancelled once the
    thread is done (sooner if `stop`, called then, makes `work` end). A thread still writing
    to a file descriptor must not outlive it: once closed, its number may be given to another
    file."""
    running = asyncio.get_running_loop().run_in_executor(executor, work, *args)
    try:
        return await asyncio.shield(running)
    finally:
        if not running.done() and stop is not None:
            stop()
        while not running.done():
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait([running])
