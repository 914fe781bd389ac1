"""One end of a P2P relay, whatever carries it: the client's WebSocket on this process, or
a relay link from the process that holds the client's socket (`transfers/link.py`)."""

from typing import Protocol


class RelayEnd(Protocol):
    async def receive(self) -> bytes | str | None:
        """The next binary (bytes) or text (str) frame; None once the end has gone."""

    async def send_bytes(self, data: bytes) -> None: ...

    async def send_text(self, text: str) -> None: ...

    async def close(self, code: int, reason: str) -> None:
        """Close with a WebSocket close code; never raises."""
