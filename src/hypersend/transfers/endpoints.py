"""P2P transfer routes: offer, inspect, cancel, and the two relay sockets."""

import contextlib
from typing import Annotated

from fastapi import APIRouter, Query, Response, WebSocket, status

from hypersend.auth.dependencies import CurrentUser
from hypersend.auth.websocket import accept_authenticated
from hypersend.json_body import JsonRoute
from hypersend.realtime.sockets import next_message
from hypersend.services import ServicesDep, get_services
from hypersend.transfers.relaying import Side
from hypersend.transfers.schemas import OfferTransfer, TransferOut

router = APIRouter(prefix="/p2p/transfers", tags=["p2p"], route_class=JsonRoute)


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
    await _relay_end(websocket, transfer_id, "sender", 0)


@router.websocket("/{transfer_id}/receive")
async def receive_side(
    websocket: WebSocket,
    transfer_id: str,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> None:
    """The receiver gets the bytes from `offset` (to resume), then `{"type": "done", ...}`."""
    await _relay_end(websocket, transfer_id, "receiver", offset)


async def _relay_end(websocket: WebSocket, transfer_id: str, side: Side, offset: int) -> None:
    services = get_services(websocket)
    principal = await accept_authenticated(websocket, services.auth)
    if principal is not None:
        end = WebSocketEnd(websocket)
        await services.relaying.connect(end, principal.user.id, transfer_id, side, offset)


class WebSocketEnd:
    """A relay end on a client's WebSocket (`transfers.ends.RelayEnd`)."""

    def __init__(self, websocket: WebSocket) -> None:
        self._websocket = websocket

    async def receive(self) -> bytes | str | None:
        message = await next_message(self._websocket)
        if message is None:
            return None
        data: bytes | None = message.get("bytes")
        return data if data is not None else str(message.get("text") or "")

    async def send_bytes(self, data: bytes) -> None:
        await self._websocket.send_bytes(data)

    async def send_text(self, text: str) -> None:
        await self._websocket.send_text(text)

    async def close(self, code: int, reason: str) -> None:
        with contextlib.suppress(Exception):
            await self._websocket.close(code, reason[:100])
