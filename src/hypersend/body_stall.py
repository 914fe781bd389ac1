"""Give up on request bodies that stop arriving.

A client that sends a request head and part of its body, then nothing, would hold a
connection and its handler forever (granian bounds only the head). Each piece of a body must
arrive within `seconds` of the one before it, or the request ends with 408; a slow but moving
upload is never cut. Once the body is complete, receiving (which then only waits for the
client to disconnect) is not timed.
"""

import asyncio

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hypersend.errors import RequestTimeout


class BodyStallTimeout:
    def __init__(self, app: ASGIApp, *, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        complete = False

        async def timed_receive() -> Message:
            nonlocal complete
            if complete:
                return await receive()
            try:
                async with asyncio.timeout(self.seconds):
                    message = await receive()
            except TimeoutError:
                # The framework's own exception, which it passes on while reading a body.
                raise HTTPException(
                    RequestTimeout.status,
                    f"The request body stopped arriving for {self.seconds:g} s",
                ) from None
            complete = message["type"] != "http.request" or not message.get("more_body", False)
            return message

        await self.app(scope, timed_receive, send)
