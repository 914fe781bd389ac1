"""JSON request bodies that storage can hold: text that is valid Unicode.

JSON may escape a lone UTF-16 surrogate (`"\\ud800"`); Python decodes it into a `str` that no
UTF-8 store can encode, so it would fail deep in a write. Every JSON body is checked as it is
parsed, and such text is a 422 naming the problem, before any service sees it.
"""

import json
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute

LONE_SURROGATE = "Text must be valid Unicode: it has a lone surrogate (\\ud800-\\udfff)"


def find_lone_surrogate(value: object) -> bool:
    """Whether any string in a decoded JSON value (keys included) is not valid Unicode."""
    if isinstance(value, str):
        try:
            value.encode()
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, dict):
        return any(find_lone_surrogate(k) or find_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(find_lone_surrogate(item) for item in value)
    return False


class _CheckedRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            value = await super().json()
            if find_lone_surrogate(value):
                raise json.JSONDecodeError(LONE_SURROGATE, (await self.body()).decode(), 0)
        return self._json


class JsonRoute(APIRoute):
    """A route whose JSON body is refused (422) when it holds text that is not Unicode."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def checked(request: Request) -> Response:
            return await handler(_CheckedRequest(request.scope, request.receive))

        return checked
