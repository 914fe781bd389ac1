"""P2P transfer routes: offer, inspect, cancel, and the two relay sockets."""

import asyncio
import contextlib
import json
from typing import Annotated

from fastapi import APIRouter, Query, Response, WebSocket, WebSocketDisconnect, status

from hypersend.auth.dependencies import CurrentUser
from hypersend.auth.websocket import CLOSE_POLICY_VIOLATION, accept_authenticated
from hypersend.realtime.sockets import next_message
from hypersend.services import ServicesDep, get_services
from hypersend.storage.models import Transfer
from hypersend.transfers.relay import MAX_FRAME, Done, Relay
from hypersend.transfers.schemas import OfferTransfer, TransferOut
from hypersend.transfers.service import RESUMABLE, TransferService

router = APIRouter(prefix="/p2p/transfers", tags=["p2p"])

CLOSE_ENDED = 4410
CLOSE_CONFLICT = 4409
CLOSE_TOO_MUCH = 4413
PROGRESS_EVERY = 8 * 1024 * 1024
VERDICT_TIMEOUT = 300.0


@router.post("", status_code=status.HTTP_201_CREATED)
async def offer(body: OfferTransfer, user: CurrentUser, services: ServicesDep) -> TransferOut:
    """Offer a file to a user; they hear of it at once on `/ws` (`transfer.offered`)."""
    return await services.transfers.offer(
        user,
        receiver_id=body.receiver_id,
        filename=body.filename,
        size=body.size,
        chat_id=body.chat_id,
    )


@router.get("")
async def list_transfers(
    user: CurrentUser,
    services: ServicesDep,
    chat_id: Annotated[str | None, Query(max_length=64)] = None,
    open_only: Annotated[bool, Query(alias="open")] = False,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[TransferOut]:
    """The caller's transfers, sent and received, newest first; `open=true` keeps offered and
    active ones, `chat_id` those offered in one chat (what a chat view shows)."""
    transfers = await services.transfers.list_for(
        user, chat_id=chat_id, open_only=open_only, limit=limit
    )
    return [TransferOut.of(transfer) for transfer in transfers]


@router.get("/{transfer_id}")
async def get_transfer(transfer_id: str, user: CurrentUser, services: ServicesDep) -> TransferOut:
    return TransferOut.of(await services.transfers.visible(user, transfer_id))


@router.delete("/{transfer_id}", status_code=status.HTTP_204_NO_CONTENT)
async def cancel(transfer_id: str, user: CurrentUser, services: ServicesDep) -> Response:
    await services.transfers.cancel(user, transfer_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.websocket("/{transfer_id}/send")
async def send_side(websocket: WebSocket, transfer_id: str) -> None:
    """The sender streams binary frames after `{"type": "start", "offset": N}`, then
    `{"type": "done", "sha256": "<hex of the whole file>"}`."""
    transfers = get_services(websocket).transfers
    found = await _join(websocket, transfers, transfer_id, "sender")
    if found is None:
        return
    transfer, relay = found
    try:
        if not await relay.wait_or_end(relay.receiver_ready.wait()):
            await _close(websocket, CLOSE_ENDED, relay.end_reason)
            return
        await websocket.send_json({"type": "start", "offset": relay.offset})
        await _pump_from_sender(websocket, transfers, transfer, relay)
    finally:
        relay.sender_connected = False
        await transfers.finish(transfer.id, "failed", "interrupted: the sender left")
        await _close_for(websocket, relay)


@router.websocket("/{transfer_id}/receive")
async def receive_side(
    websocket: WebSocket,
    transfer_id: str,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> None:
    """The receiver gets the bytes from `offset` (to resume), then `{"type": "done", ...}`."""
    transfers = get_services(websocket).transfers
    found = await _join(websocket, transfers, transfer_id, "receiver")
    if found is None:
        return
    transfer, relay = found
    try:
        if offset > transfer.size:
            await websocket.send_json({"type": "error", "detail": "offset beyond the file"})
            return
        relay.offset = relay.relayed = offset
        await transfers.activate(transfer.id)
        relay.receiver_ready.set()
        await _pump_to_receiver(websocket, transfers, transfer, relay)
    finally:
        relay.receiver_connected = False
        await transfers.finish(transfer.id, "failed", "interrupted: the receiver left")
        await _close_for(websocket, relay)


async def _join(
    websocket: WebSocket, transfers: TransferService, transfer_id: str, side: str
) -> tuple[Transfer, Relay] | None:
    """Authenticate and admit exactly the named sender or receiver of a live transfer."""
    principal = await accept_authenticated(websocket, get_services(websocket).auth)
    if principal is None:
        return None
    transfer = await transfers.get(transfer_id)
    expected = None if transfer is None else getattr(transfer, f"{side}_id")
    if transfer is None or principal.user.id != expected:
        await websocket.send_json({"type": "error", "detail": "Transfer not found"})
        await _close(websocket, CLOSE_POLICY_VIOLATION, "not yours")
        return None
    resumable = transfer.status in RESUMABLE and transfer.reason not in ("server restarted",)
    if not resumable:
        await websocket.send_json({"type": "error", "detail": f"Transfer is {transfer.status}"})
        await _close(websocket, CLOSE_ENDED, transfer.status)
        return None
    relay = transfers.relays.get(transfer.id)
    connected = relay.sender_connected if side == "sender" else relay.receiver_connected
    if connected:
        await websocket.send_json({"type": "error", "detail": f"A {side} is already connected"})
        await _close(websocket, CLOSE_CONFLICT, f"second {side}")
        return None
    if side == "sender":
        relay.sender_connected = True
    else:
        relay.receiver_connected = True
    return transfer, relay


async def _pump_from_sender(
    websocket: WebSocket, transfers: TransferService, transfer: Transfer, relay: Relay
) -> None:
    expected = transfer.size - relay.offset
    received = 0
    while not relay.ended.is_set():
        message = await next_message(websocket)
        if message is None:
            return
        data = message.get("bytes")
        if data is not None:
            received += len(data)
            if len(data) > MAX_FRAME or received > expected:
                await transfers.finish(transfer.id, "failed", "more bytes than declared")
                return
            if not await relay.wait_or_end(relay.frames.put(data)):
                return
            continue
        command = _parse(message.get("text"))
        if command.get("type") == "cancel":
            await transfers.finish(transfer.id, "cancelled", "cancelled by the sender")
            return
        digest = command.get("sha256")
        if command.get("type") == "done" and isinstance(digest, str):
            if received != expected:
                await transfers.finish(transfer.id, "failed", "fewer bytes than declared")
                return
            await relay.wait_or_end(relay.frames.put(Done(digest)))
            await relay.wait_or_end(relay.ended.wait())
            return
        await transfers.finish(transfer.id, "failed", "unexpected frame from the sender")
        return


async def _pump_to_receiver(
    websocket: WebSocket, transfers: TransferService, transfer: Transfer, relay: Relay
) -> None:
    saved = relay.relayed
    while True:
        item = await _next_frame(relay)
        if item is None:
            return
        if isinstance(item, Done):
            await websocket.send_json({"type": "done", "sha256": item.sha256})
            relay.relayed = transfer.size
            verdict = await _receiver_verdict(websocket)
            if verdict == "done":
                await transfers.finish(transfer.id, "completed", "")
            else:
                await transfers.finish(transfer.id, "failed", "the receiver could not verify it")
            return
        await websocket.send_bytes(item)
        relay.relayed += len(item)
        if relay.relayed - saved >= PROGRESS_EVERY:
            saved = relay.relayed
            await transfers.save_progress(transfer.id, saved)


async def _receiver_verdict(websocket: WebSocket) -> str:
    """The receiver answers `{"type": "done"}` once the SHA-256 checks out."""
    try:
        async with asyncio.timeout(VERDICT_TIMEOUT):
            return str(_parse(await websocket.receive_text()).get("type", ""))
    except (TimeoutError, WebSocketDisconnect, RuntimeError):
        return ""


async def _next_frame(relay: Relay) -> bytes | Done | None:
    getting = asyncio.ensure_future(relay.frames.get())
    return getting.result() if await relay.wait_or_end(getting) else None


def _parse(text: str | None) -> dict[str, object]:
    try:
        value = json.loads(text or "")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


async def _close_for(websocket: WebSocket, relay: Relay) -> None:
    """1000 when the file arrived; otherwise 4410 with the final status as the reason."""
    completed = relay.end_reason == "completed"
    await _close(websocket, 1000 if completed else CLOSE_ENDED, relay.end_reason)


async def _close(websocket: WebSocket, code: int, reason: str) -> None:
    with contextlib.suppress(Exception):
        await websocket.close(code, reason[:100])
