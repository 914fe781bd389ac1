"""Authenticating a WebSocket: a bearer header on the handshake, or (browsers) a first frame."""

import asyncio
import json

from fastapi import WebSocket, WebSocketDisconnect

from hypersend.auth.principals import Principal
from hypersend.auth.service import AuthService
from hypersend.errors import ApiError

AUTH_FRAME_TIMEOUT = 10.0
CLOSE_POLICY_VIOLATION = 1008


async def accept_authenticated(websocket: WebSocket, auth: AuthService) -> Principal | None:
    """Accept the socket once its caller is known; refuse it (and return None) otherwise."""
    header = websocket.headers.get("authorization", "")
    if header:
        scheme, _, token = header.partition(" ")
        try:
            if scheme.lower() != "bearer":
                raise ApiError("Missing bearer token")
            principal = await auth.authenticate(token.strip())
        except ApiError:
            await websocket.close(CLOSE_POLICY_VIOLATION, "Not authenticated")
            return None
        await websocket.accept()
        return principal
    await websocket.accept()
    try:
        frame = await asyncio.wait_for(websocket.receive_text(), AUTH_FRAME_TIMEOUT)
    except WebSocketDisconnect:
        return None  # gone before saying who it is: nothing to answer
    except (TimeoutError, KeyError):  # silent, or a binary frame
        frame = ""
    try:
        message = json.loads(frame)
        if not isinstance(message, dict) or message.get("type") != "auth":
            raise ValueError("first frame must be {type: auth}")
        return await auth.authenticate(str(message.get("token", "")))
    except (ValueError, KeyError, ApiError):
        await websocket.send_json(
            {"type": "error", "code": "unauthorized", "detail": "Not authenticated"}
        )
        await websocket.close(CLOSE_POLICY_VIOLATION, "Not authenticated")
        return None
