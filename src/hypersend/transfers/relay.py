"""The in-memory pipe between a transfer's sender and receiver sockets.

At most `BUFFERED_FRAMES` frames (each at most `MAX_FRAME` bytes) wait in the pipe: when it is
full the sender's handler stops reading its socket, so TCP slows the sender to the receiver's
pace and the server's memory per transfer stays bounded whatever the file size.
"""

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any

MAX_FRAME = 1024 * 1024
BUFFERED_FRAMES = 4


@dataclass(slots=True)
class Done:
    sha256: str


@dataclass(eq=False, slots=True)
class Relay:
    transfer_id: str
    frames: asyncio.Queue[bytes | Done] = field(
        default_factory=lambda: asyncio.Queue(BUFFERED_FRAMES)
    )
    receiver_ready: asyncio.Event = field(default_factory=asyncio.Event)
    ended: asyncio.Event = field(default_factory=asyncio.Event)
    offset: int = 0
    relayed: int = 0
    sender_connected: bool = False
    receiver_connected: bool = False
    end_reason: str = ""
    confirmed: int = 0  # what the receiver says it holds
    confirmation: asyncio.Event = field(default_factory=asyncio.Event)

    def confirm(self, held: int) -> None:
        if held > self.confirmed:
            self.confirmed = held
            self.confirmation.set()

    def end(self, reason: str) -> None:
        if not self.ended.is_set():
            self.end_reason = reason
            self.ended.set()

    async def wait_or_end(self, awaitable: Awaitable[object]) -> bool:
        """Await `awaitable` unless the relay ends first; True when it completed."""
        task: asyncio.Future[object] = asyncio.ensure_future(awaitable)
        ended = asyncio.ensure_future(self.ended.wait())
        racing: set[asyncio.Future[Any]] = {task, ended}
        done, _ = await asyncio.wait(racing, return_when=asyncio.FIRST_COMPLETED)
        ended.cancel()
        if task in done:
            return True
        task.cancel()
        return False


class RelayRegistry:
    def __init__(self) -> None:
        self._relays: dict[str, Relay] = {}

    def get(self, transfer_id: str) -> Relay:
        relay = self._relays.get(transfer_id)
        if relay is None or relay.ended.is_set():
            relay = self._relays[transfer_id] = Relay(transfer_id)
        return relay

    def find(self, transfer_id: str) -> Relay | None:
        return self._relays.get(transfer_id)

    def end(self, transfer_id: str, status: str) -> None:
        """The transfer reached `status` (perhaps decided by another process)."""
        relay = self._relays.get(transfer_id)
        if relay is not None:
            relay.end(status)

    def __len__(self) -> int:
        return len(self._relays)

    def drop(self, relay: Relay) -> None:
        if self._relays.get(relay.transfer_id) is relay:
            del self._relays[relay.transfer_id]
