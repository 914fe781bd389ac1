"""`worker_threads.to_the_end`: a cancelled task waits for its thread's work to be over (so
that what the work uses, a file descriptor, is not closed under it), and asks it to stop."""

import asyncio
import threading
import time

import pytest

from hypersend.worker_threads import to_the_end


async def test_a_cancelled_task_goes_on_only_once_its_thread_is_done() -> None:
    done: list[str] = []

    def write_slowly() -> str:
        time.sleep(0.3)
        done.append("written")
        return "written"

    assert await to_the_end(None, write_slowly) == "written"
    task = asyncio.create_task(to_the_end(None, write_slowly))
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert done == ["written", "written"]


async def test_a_cancelled_task_asks_its_thread_to_stop() -> None:
    stopping = threading.Event()

    def wait_to_be_stopped() -> None:
        assert stopping.wait(10)

    task = asyncio.create_task(to_the_end(None, wait_to_be_stopped, stop=stopping.set))
    await asyncio.sleep(0.05)
    started = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert stopping.is_set()
    assert time.monotonic() - started < 5
