"""How a request body may arrive: it must keep moving, and what the app left unread is read.

- A client that sends a request head and part of its body, then nothing, would hold a
  connection and its handler forever (granian bounds only the head). Each piece of a body must
  arrive within `stall_seconds` of the one before it, or the request ends with 408; a slow but
  moving upload is never cut.
- An answer given before the body was read (a 413 on the declared size, a 422 on a bad chunk
  index) would reach the client as a connection reset if the server closed with the body's
  rest still arriving. So after the answer, a body of at most `drain_limit` bytes is read to its
  end and dropped; a larger one is cut as before. A body of undeclared length (chunked, such
  as a PATCH answered 411) is read the same way while it stays within `drain_limit`.

Once the body is complete, receiving (which then only waits for the client to disconnect) is
not timed.
"""

import asyncio

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hypersend.errors import RequestTimeout


class RequestBodyGuard:
    def __init__(self, app: ASGIApp, *, stall_seconds: float, drain_limit: int) -> None:
        self.app = app
        self.stall_seconds = stall_seconds
        self.drain_limit = drain_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        complete = False
        received = 0

        async def timed_receive() -> Message:
            nonlocal complete, received
            if complete:
                return await receive()
            try:
                async with asyncio.timeout(self.stall_seconds):
                    message = await receive()
            except TimeoutError:
                # The framework's own exception, which it passes on while reading a body.
                raise HTTPException(
                    RequestTimeout.status,
                    f"The request body stopped arriving for {self.stall_seconds:g} s",
                ) from None
            received += len(message.get("body", b""))
            complete = message["type"] != "http.request" or not message.get("more_body", False)
            return message

        await self.app(scope, timed_receive, send)
        declared = content_length(scope)
        if complete or (declared is not None and declared > self.drain_limit):
            return
        while not complete and received <= self.drain_limit:
            try:
                await timed_receive()
            except HTTPException:
                return


def content_length(scope: Scope) -> int | None:
    """The declared `Content-Length`, when it is a plain number of sane length."""
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() and len(value) < 19 else None
    return None
