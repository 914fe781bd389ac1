"""Reading what a WebSocket's client sends, the same way in every WebSocket route."""

from fastapi import WebSocket, WebSocketDisconnect
from starlette.types import Message


async def next_message(websocket: WebSocket) -> Message | None:
    """The client's next frame (an ASGI message with `text` or `bytes`), or None once the
    client has gone."""
    try:
        message = await websocket.receive()
    except WebSocketDisconnect:
        return None
    return None if message["type"] == "websocket.disconnect" else message
