"""What the client's streaming protocols share (HTTP bodies in `response_stream.py`, WebSocket
payloads in `websocket_stream.py`): the socket writes straight into a few reused buffers
(`recv_into`, no copy through asyncio's stream buffers), full ones wait for the reader, and
reading from the socket pauses while the reader holds them all (backpressure)."""

import asyncio

BUFFER_SIZE = 1024 * 1024
BUFFERS = 4  # one being filled, others being written or hashed: 4 MiB per stream at most


class BufferedReceiver(asyncio.BufferedProtocol):
    def __init__(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._transport: asyncio.Transport | None = None
        self._free = [bytearray(BUFFER_SIZE) for _ in range(BUFFERS)]
        self._filling: bytearray | None = None  # the buffer the socket writes into
        self._filled = 0
        self._wakeup: asyncio.Future[None] | None = None
        self._paused = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def _start_filling(self) -> bytearray:
        """The buffer being filled; a free one if none is."""
        if self._filling is None:
            self._filling, self._filled = self._free.pop(), 0
        return self._filling

    def _give_back(self, buffer: bytearray) -> None:
        """The reader is done with `buffer`: the socket may fill it again."""
        self._free.append(buffer)
        self._resume()

    async def _woken(self) -> None:
        """Wait until the event loop's side has news for the reader (`_wake`)."""
        self._wakeup = self._loop.create_future()
        await self._wakeup

    def _wake(self) -> None:
        if self._wakeup is not None and not self._wakeup.done():
            self._wakeup.set_result(None)

    def _pause(self) -> None:
        if not self._paused and self._transport is not None:
            self._paused = True
            self._transport.pause_reading()

    def _resume(self) -> None:
        if self._paused and self._transport is not None:
            self._paused = False
            self._transport.resume_reading()
