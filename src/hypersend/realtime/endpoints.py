"""`GET /ws`: the live event stream of one signed-in device."""

import asyncio
import contextlib
import json
from typing import Any

from fastapi import APIRouter, WebSocket

from hypersend.auth.websocket import accept_authenticated
from hypersend.errors import ApiError
from hypersend.json_body import LONE_SURROGATE, JsonRoute, find_lone_surrogate
from hypersend.realtime.hub import CLOSE_BUS_LOST, CLOSE_TOO_MANY, Subscriber
from hypersend.realtime.sockets import next_message
from hypersend.services import Services, get_services

router = APIRouter(tags=["realtime"], route_class=JsonRoute)

CLOSE_TIMEOUT = 30.0  # a slow client reads its close frame after what was queued before it


@router.websocket("/ws")
async def events(websocket: WebSocket) -> None:
    services = get_services(websocket)
    principal = await accept_authenticated(websocket, services.auth)
    if principal is None:
        return
    if not services.bus.connected:  # events from other processes would be missed
        await websocket.close(CLOSE_BUS_LOST, "Server lost its event bus: reconnect shortly")
        return
    # A bound per process: with several processes, a user may hold this many on each.
    if services.hub.connections_of(principal.user.id) >= services.settings.ws_max_sockets_per_user:
        await websocket.close(CLOSE_TOO_MANY, "Too many open event sockets for this account")
        return
    subscriber = services.hub.subscribe(principal.user.id, principal.session.id)
    connection_id = await services.presence.connected(principal.user)
    tasks = {
        asyncio.create_task(_send_events(websocket, subscriber, services)),
        asyncio.create_task(_receive_commands(websocket, subscriber, services)),
        asyncio.create_task(subscriber.closed.wait()),
    }
    try:
        await websocket.send_json({"type": "ready", "user_id": principal.user.id})
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        services.hub.unsubscribe(subscriber)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await services.presence.disconnected(principal.user, connection_id)
    if subscriber.closed.is_set():
        with contextlib.suppress(Exception):
            await asyncio.wait_for(
                websocket.close(subscriber.close_code, subscriber.close_reason), CLOSE_TIMEOUT
            )


async def _send_events(websocket: WebSocket, subscriber: Subscriber, services: Services) -> None:
    """Forward queued frames; send a heartbeat when the line has been quiet."""
    heartbeat = services.settings.ws_heartbeat_seconds
    closed = asyncio.create_task(subscriber.closed.wait())
    try:
        while not subscriber.closed.is_set():
            next_frame = asyncio.create_task(subscriber.frames.get())
            done, _ = await asyncio.wait(
                {next_frame, closed}, timeout=heartbeat, return_when=asyncio.FIRST_COMPLETED
            )
            if next_frame in done:
                await websocket.send_text(next_frame.result())
                continue
            next_frame.cancel()
            if not done:
                await websocket.send_text('{"type":"heartbeat"}')
    finally:
        closed.cancel()


async def _receive_commands(
    websocket: WebSocket, subscriber: Subscriber, services: Services
) -> None:
    while (message := await next_message(websocket)) is not None:
        text = message.get("text")
        if text is None:
            subscriber.offer(_error("bad_frame", "Send JSON text frames"))
            continue
        try:
            command = json.loads(text)
        except ValueError:
            subscriber.offer(_error("bad_frame", "Frame is not valid JSON"))
            continue
        if find_lone_surrogate(command):
            subscriber.offer(_error("bad_frame", LONE_SURROGATE))
            continue
        await _handle(command, subscriber, services)


async def _handle(command: Any, subscriber: Subscriber, services: Services) -> None:
    kind = command.get("type") if isinstance(command, dict) else None
    if kind == "ping":
        subscriber.offer('{"type":"pong"}')
    elif kind == "typing":
        chat_id = command.get("chat_id")
        if not isinstance(chat_id, str):
            subscriber.offer(_error("bad_frame", "typing needs a chat_id"))
            return
        try:
            await services.chats.typing(subscriber.user_id, chat_id)
        except ApiError as exc:
            subscriber.offer(_error(exc.code, str(exc.detail)))
    else:
        subscriber.offer(_error("unknown_type", f"Unknown frame type: {kind!r}"))


def _error(code: str, detail: str) -> str:
    return json.dumps({"type": "error", "code": code, "detail": detail})
