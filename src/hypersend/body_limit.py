"""Refuse request bodies above a limit before they are read into memory.

Routes that stream large bodies to disk (file chunks) are exempt and enforce their own limit.
"""

import json

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hypersend.error_responses import error_body
from hypersend.errors import PayloadTooLarge
from hypersend.request_body import content_length


class BodySizeLimit:
    def __init__(self, app: ASGIApp, *, limit: int, exempt_prefixes: tuple[str, ...]) -> None:
        self.app = app
        self.limit = limit
        self.exempt_prefixes = exempt_prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(self.exempt_prefixes):
            await self.app(scope, receive, send)
            return
        declared = content_length(scope)
        if declared is not None and declared > self.limit:
            await self._refuse(send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    # The framework's own exception: raised while it reads the body, it is
                    # the one kind it passes on rather than turning into a 400.
                    raise HTTPException(PayloadTooLarge.status, self._message)
            return message

        await self.app(scope, limited_receive, send)

    @property
    def _message(self) -> str:
        return f"Request body is larger than {self.limit} bytes"

    async def _refuse(self, send: Send) -> None:
        body = json.dumps(error_body(self._message, PayloadTooLarge.code)).encode()
        await send(
            {
                "type": "http.response.start",
                "status": PayloadTooLarge.status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
