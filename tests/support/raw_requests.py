"""Raw bytes to a listener of HyperSend's own (the download and upload ports), for requests no
HTTP client would send."""

import asyncio


async def exchange(port: int, request: bytes, *, read_timeout: float = 10.0) -> bytes:
    """Send raw bytes to `port` and read until the server closes the connection."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        await writer.drain()
        async with asyncio.timeout(read_timeout):
            return await reader.read()
    finally:
        writer.close()
