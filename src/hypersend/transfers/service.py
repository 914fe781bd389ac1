"""P2P transfers: offers, statuses and the relay registry. Bytes are never stored."""

import dataclasses
import logging
from datetime import timedelta

from hypersend.chats.service import ChatService
from hypersend.clock import utcnow
from hypersend.cluster.coordination import Coordination
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
RELAY_STOPPED = "interrupted: the server process relaying it stopped"


class TransferService:
    def __init__(
        self,
        storage: Storage,
        bus: EventBus,
        chats: ChatService,
        offer_seconds: int,
        *,
        relays: RelayRegistry,
        coordination: Coordination,
    ) -> None:
        self._storage = storage
        self._bus = bus
        self._chats = chats
        self._offer_lifetime = timedelta(seconds=offer_seconds)
        self._relays = relays
        self._coordination = coordination

    async def offer(
        self, user: User, *, receiver_id: str, filename: str, size: int, chat_id: str | None
    ) -> TransferOut:
        receiver = await self._storage.users.get(receiver_id)
        if receiver is None or receiver.disabled or receiver.id == user.id:
            raise Unprocessable("Unknown receiver", code="unknown_user")
        if chat_id is not None:
            await self._chats.require_member(chat_id, user.id)
            await self._chats.require_member(chat_id, receiver_id)
        elif not await self._storage.chats.share_a_chat(user.id, receiver_id):
            raise Unprocessable(  # offers are no way to reach strangers
                "You can offer files only to people you share a chat with", code="not_a_contact"
            )
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
        """Move to a final status (if still open), save progress and end the relay, on
        whichever process runs it."""
        relay = self._relays.find(transfer_id)
        if relay is not None:
            await self._storage.transfers.set_progress(transfer_id, relay.relayed)
        changed = await self._storage.transfers.set_status(
            transfer_id, status, only_from=only_from, reason=reason
        )
        if relay is not None:
            relay.end(status if changed else relay.end_reason or status)
        if changed:
            await self._bus.transfer_ended(transfer_id, status)
        return changed

    @staticmethod
    def resumable(transfer: Transfer) -> bool:
        return transfer.status in RESUMABLE

    async def activate(self, transfer_id: str) -> None:
        """The receiver joined the relay on this process."""
        await self._storage.transfers.activate(
            transfer_id, relay_node=self._coordination.node_id, only_from=RESUMABLE
        )

    async def save_progress(self, transfer_id: str, relayed: int) -> None:
        await self._storage.transfers.set_progress(transfer_id, relayed)

    async def fail_stopped_relays(self) -> None:
        """Active transfers whose relaying process has stopped fail (resumable): a restarted
        process, or one whose liveness lapsed, relayed them. Transfers relayed by live
        processes are left alone."""
        nodes = await self._storage.transfers.relay_nodes()
        stopped = sorted(nodes - await self._coordination.live_nodes(nodes))
        if stopped:
            failed = await self._storage.transfers.fail_relayed_by(stopped, RELAY_STOPPED)
            logger.info("%d transfers failed: their relaying process stopped", failed)

    async def expire(self) -> None:
        """Expire offers past their time, and fail the transfers of stopped processes."""
        for transfer in await self._storage.transfers.expire_offers(utcnow()):
            await self._bus.transfer_ended(transfer.id, "expired")
        await self.fail_stopped_relays()

    async def _with_live_progress(self, transfer: Transfer) -> Transfer:
        relay = self._relays.find(transfer.id)
        if relay is None or transfer.status != "active":
            return transfer
        return dataclasses.replace(transfer, bytes_relayed=relay.relayed)
