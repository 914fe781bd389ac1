"""P2P transfers: offers, statuses and the relay registry. Bytes are never stored."""

import asyncio
import dataclasses
import logging
from datetime import timedelta

from hypersend.chats.service import ChatService
from hypersend.clock import utcnow
from hypersend.errors import NotFound, Unprocessable
from hypersend.ids import new_id
from hypersend.realtime.bus import EventBus
from hypersend.storage import Storage
from hypersend.storage.models import Transfer, User
from hypersend.transfers.relay import RelayRegistry
from hypersend.transfers.schemas import TransferOut

logger = logging.getLogger("hypersend.transfers")

OPEN = ("offered", "active")
RESUMABLE = ("offered", "active", "failed")
EXPIRY_CHECK_SECONDS = 5.0


class TransferService:
    def __init__(
        self, storage: Storage, bus: EventBus, chats: ChatService, offer_seconds: int
    ) -> None:
        self._storage = storage
        self._bus = bus
        self._chats = chats
        self._offer_lifetime = timedelta(seconds=offer_seconds)
        self.relays = RelayRegistry()

    async def offer(
        self, user: User, *, receiver_id: str, filename: str, size: int, chat_id: str | None
    ) -> TransferOut:
        receiver = await self._storage.users.get(receiver_id)
        if receiver is None or receiver.disabled or receiver.id == user.id:
            raise Unprocessable("Unknown receiver", code="unknown_user")
        if chat_id is not None:
            await self._chats.require_member(chat_id, user.id)
            await self._chats.require_member(chat_id, receiver_id)
        now = utcnow()
        transfer = Transfer(
            id=new_id(),
            sender_id=user.id,
            receiver_id=receiver_id,
            chat_id=chat_id,
            filename=filename,
            size=size,
            status="offered",
            created_at=now,
            expires_at=now + self._offer_lifetime,
        )
        await self._storage.transfers.create(transfer)
        out = TransferOut.of(transfer)
        await self._bus.publish(
            [receiver_id], {"type": "transfer.offered", "transfer": out.model_dump(mode="json")}
        )
        return out

    async def visible(self, user: User, transfer_id: str) -> Transfer:
        transfer = await self._storage.transfers.get(transfer_id)
        if transfer is None or user.id not in (transfer.sender_id, transfer.receiver_id):
            raise NotFound("Transfer not found")
        return await self._with_live_progress(transfer)

    async def list_for(
        self, user: User, *, chat_id: str | None, open_only: bool, limit: int
    ) -> list[Transfer]:
        transfers = await self._storage.transfers.list_for_user(
            user.id, chat_id=chat_id, open_only=open_only, limit=limit
        )
        return [await self._with_live_progress(transfer) for transfer in transfers]

    async def get(self, transfer_id: str) -> Transfer | None:
        return await self._storage.transfers.get(transfer_id)

    async def cancel(self, user: User, transfer_id: str) -> None:
        transfer = await self.visible(user, transfer_id)
        await self.finish(transfer.id, "cancelled", f"cancelled by {user.id}", only_from=RESUMABLE)

    async def finish(
        self, transfer_id: str, status: str, reason: str, *, only_from: tuple[str, ...] = OPEN
    ) -> bool:
        """Move to a final status (if still open), save progress and end the relay."""
        relay = self.relays.find(transfer_id)
        if relay is not None:
            await self._storage.transfers.set_progress(transfer_id, relay.relayed)
        changed = await self._storage.transfers.set_status(
            transfer_id, status, only_from=only_from, reason=reason
        )
        if relay is not None:
            relay.end(status if changed else relay.end_reason or status)
        return changed

    async def activate(self, transfer_id: str) -> None:
        await self._storage.transfers.set_status(transfer_id, "active", only_from=RESUMABLE)

    async def save_progress(self, transfer_id: str, relayed: int) -> None:
        await self._storage.transfers.set_progress(transfer_id, relayed)

    async def on_startup(self) -> None:
        failed = await self._storage.transfers.fail_unfinished("server restarted")
        if failed:
            logger.info("Marked %d unfinished transfers failed after a restart", failed)

    async def expire_forever(self) -> None:
        while True:
            try:
                for transfer in await self._storage.transfers.expire_offers(utcnow()):
                    relay = self.relays.find(transfer.id)
                    if relay is not None:
                        relay.end("expired")
            except Exception:
                logger.exception("Transfer expiry failed")
            await asyncio.sleep(EXPIRY_CHECK_SECONDS)

    async def _with_live_progress(self, transfer: Transfer) -> Transfer:
        relay = self.relays.find(transfer.id)
        if relay is None or transfer.status != "active":
            return transfer
        return dataclasses.replace(transfer, bytes_relayed=relay.relayed)
