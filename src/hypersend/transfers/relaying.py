"""Running the two ends of a P2P transfer: admission, pairing, pumping and the verdict.

An end arrives on some process. If that process relays the transfer (it claimed it first,
or it is the only process), the end joins the relay here; otherwise the end is piped over a
relay link to the process that does (`transfers/link.py`), which runs it exactly as if its
socket were its own. Bytes never touch a disk or Redis.
"""

import asyncio
import json
import logging
from typing import Any, Literal

from hypersend.cluster.coordination import Coordination
from hypersend.cluster.redis_client import REDIS_FAILURES
from hypersend.storage.models import Transfer
from hypersend.transfers.ends import RelayEnd
from hypersend.transfers.link import LinkClient
from hypersend.transfers.relay import MAX_FRAME, Done, Relay, RelayRegistry
from hypersend.transfers.service import TransferService

logger = logging.getLogger("hypersend.transfers")

Side = Literal["sender", "receiver"]

CLOSE_COMPLETED = 1000
CLOSE_POLICY_VIOLATION = 1008
CLOSE_TRY_AGAIN = 1013
CLOSE_CONFLICT = 4409
CLOSE_ENDED = 4410
PROGRESS_EVERY = 8 * 1024 * 1024
PROGRESS_INTERVAL = 0.25  # at most this often the sender hears what the receiver holds
VERDICT_TIMEOUT = 300.0

# Why a relay ended, as recorded on the transfer.
SENDER_LEFT = "interrupted: the sender left"
RECEIVER_LEFT = "interrupted: the receiver left"
SENDER_CANCELLED = "cancelled by the sender"
TOO_MANY_BYTES = "more bytes than declared"
TOO_FEW_BYTES = "fewer bytes than declared"
UNEXPECTED_FRAME = "unexpected frame from the sender"
NOT_VERIFIED = "the receiver could not verify it"


class Relaying:
    def __init__(
        self,
        transfers: TransferService,
        relays: RelayRegistry,
        coordination: Coordination,
        links: LinkClient,
    ) -> None:
        self._transfers = transfers
        self._relays = relays
        self._coordination = coordination
        self._links = links

    async def connect(
        self, end: RelayEnd, user_id: str, transfer_id: str, side: Side, offset: int = 0
    ) -> None:
        """Serve a client's end: here, or through a link to the process relaying it."""
        transfer = await self._transfers.get(transfer_id)
        if transfer is None or user_id != _party(transfer, side):
            await _refuse(end, "Transfer not found", CLOSE_POLICY_VIOLATION, "not yours")
            return
        for _ in range(2):
            try:
                home = await self._coordination.claim_relay(transfer_id)
            except REDIS_FAILURES as exc:
                logger.warning("No relay for %s: %r", transfer_id, exc)
                await _refuse(end, "Relay unavailable; try again", CLOSE_TRY_AGAIN, "retry")
                return
            if home is None:
                await self.serve(end, user_id, transfer_id, side, offset)
                return
            node_id, address = home
            hello = {"transfer_id": transfer_id, "user_id": user_id, "side": side}
            if await self._links.pipe(address, {**hello, "offset": offset}, end):
                return
            await self._coordination.drop_claim(transfer_id, node_id)  # unreachable
        await _refuse(end, "Relay unavailable; try again", CLOSE_TRY_AGAIN, "retry")

    async def serve_link(self, end: RelayEnd, hello: dict[str, Any]) -> None:
        """Run an end that another process linked here (its hello is signed, so the
        client was authenticated there)."""
        transfer_id, user_id = hello.get("transfer_id"), hello.get("user_id")
        side, offset = hello.get("side"), hello.get("offset")
        if (
            not isinstance(transfer_id, str)
            or not isinstance(user_id, str)
            or side not in ("sender", "receiver")
            or not isinstance(offset, int)
            or offset < 0
        ):
            await _refuse(end, "Bad relay link", CLOSE_POLICY_VIOLATION, "bad hello")
            return
        await self.serve(
            end, user_id, transfer_id, "sender" if side == "sender" else "receiver", offset
        )

    async def serve(
        self, end: RelayEnd, user_id: str, transfer_id: str, side: Side, offset: int
    ) -> None:
        """Run an end on this process, which relays the transfer."""
        joined = await self._admit(end, user_id, transfer_id, side)
        if joined is None:
            return
        transfer, relay = joined
        try:
            if side == "sender":
                await self._run_sender(end, transfer, relay)
            else:
                await self._run_receiver(end, transfer, relay, offset)
        finally:
            if side == "sender":
                relay.sender_connected = False
            else:
                relay.receiver_connected = False
            await self._transfers.finish(
                transfer.id, "failed", SENDER_LEFT if side == "sender" else RECEIVER_LEFT
            )
            completed = relay.end_reason == "completed"
            await end.close(CLOSE_COMPLETED if completed else CLOSE_ENDED, relay.end_reason)
            await self._forget_if_idle(relay)

    async def _admit(
        self, end: RelayEnd, user_id: str, transfer_id: str, side: Side
    ) -> tuple[Transfer, Relay] | None:
        """Admit exactly the named sender or receiver of a resumable transfer, once."""
        transfer = await self._transfers.get(transfer_id)
        if transfer is None or user_id != _party(transfer, side):
            await _refuse(end, "Transfer not found", CLOSE_POLICY_VIOLATION, "not yours")
            return None
        if not self._transfers.resumable(transfer):
            await _refuse(end, f"Transfer is {transfer.status}", CLOSE_ENDED, transfer.status)
            return None
        relay = self._relays.get(transfer.id)
        if relay.sender_connected if side == "sender" else relay.receiver_connected:
            await _refuse(end, f"A {side} is already connected", CLOSE_CONFLICT, f"second {side}")
            await self._forget_if_idle(relay)
            return None
        if side == "sender":
            relay.sender_connected = True
        else:
            relay.receiver_connected = True
        return transfer, relay

    async def _forget_if_idle(self, relay: Relay) -> None:
        """An ended relay that no end uses any more is dropped, and its claim given up."""
        if relay.sender_connected or relay.receiver_connected or not relay.ended.is_set():
            return
        self._relays.drop(relay)
        try:
            await self._coordination.drop_claim(relay.transfer_id, self._coordination.node_id)
        except REDIS_FAILURES as exc:
            logger.warning("Claim on %s left to lapse: %r", relay.transfer_id, exc)

    async def _run_sender(self, end: RelayEnd, transfer: Transfer, relay: Relay) -> None:
        """The sender streams binary frames after `{"type": "start", "offset": N}`, then
        `{"type": "done", "sha256": "<hex of the whole file>"}`; meanwhile it hears what the
        receiver holds, `{"type": "progress", "bytes": N}`."""
        if not await relay.wait_or_end(relay.receiver_ready.wait()):
            return
        await end.send_text(json.dumps({"type": "start", "offset": relay.offset}))
        telling = asyncio.create_task(_tell_progress(end, relay))
        try:
            await self._pump_sender(end, transfer, relay)
        finally:
            await _stopped(telling)

    async def _pump_sender(self, end: RelayEnd, transfer: Transfer, relay: Relay) -> None:
        expected = transfer.size - relay.offset
        received = 0
        while not relay.ended.is_set():
            frame = await end.receive()
            if frame is None:
                return
            if isinstance(frame, bytes):
                received += len(frame)
                if len(frame) > MAX_FRAME or received > expected:
                    await self._transfers.finish(transfer.id, "failed", TOO_MANY_BYTES)
                    return
                if not await relay.wait_or_end(relay.frames.put(frame)):
                    return
                continue
            command = _parse(frame)
            if command.get("type") == "cancel":
                await self._transfers.finish(transfer.id, "cancelled", SENDER_CANCELLED)
                return
            digest = command.get("sha256")
            if command.get("type") == "done" and isinstance(digest, str):
                if received != expected:
                    await self._transfers.finish(transfer.id, "failed", TOO_FEW_BYTES)
                    return
                await relay.wait_or_end(relay.frames.put(Done(digest)))
                await relay.wait_or_end(relay.ended.wait())
                return
            await self._transfers.finish(transfer.id, "failed", UNEXPECTED_FRAME)
            return

    async def _run_receiver(
        self, end: RelayEnd, transfer: Transfer, relay: Relay, offset: int
    ) -> None:
        """The receiver gets the bytes from `offset` (to resume), then `{"type": "done"}`;
        meanwhile it may say what it holds, `{"type": "received", "bytes": N}`."""
        if offset > transfer.size:
            await end.send_text(json.dumps({"type": "error", "detail": "offset beyond the file"}))
            return
        relay.offset = relay.relayed = relay.confirmed = offset
        await self._transfers.activate(transfer.id)
        verdict: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        hearing = asyncio.create_task(_hear_receiver(end, relay, transfer.size, verdict))
        try:
            await self._pump_receiver(end, transfer, relay, verdict)
        finally:
            await _stopped(hearing)

    async def _pump_receiver(
        self, end: RelayEnd, transfer: Transfer, relay: Relay, verdict: "asyncio.Future[str]"
    ) -> None:
        relay.receiver_ready.set()
        saved = relay.relayed
        while True:
            getting = asyncio.ensure_future(relay.frames.get())
            if not await relay.wait_or_end(getting):
                return
            item = getting.result()
            if isinstance(item, Done):
                await end.send_text(json.dumps({"type": "done", "sha256": item.sha256}))
                relay.relayed = transfer.size
                if await _verdict(verdict) == "done":
                    await self._transfers.finish(transfer.id, "completed", "")
                else:
                    await self._transfers.finish(transfer.id, "failed", NOT_VERIFIED)
                return
            await end.send_bytes(item)
            relay.relayed += len(item)
            if relay.relayed - saved >= PROGRESS_EVERY:
                saved = relay.relayed
                await self._transfers.save_progress(transfer.id, saved)


async def _hear_receiver(
    end: RelayEnd, relay: Relay, size: int, verdict: "asyncio.Future[str]"
) -> None:
    """Read the receiver's frames: what it holds, then its verdict ("" if it leaves)."""
    outcome = ""
    while (frame := await end.receive()) is not None:
        heard = _parse(frame) if isinstance(frame, str) else {}
        held = heard.get("bytes")
        if heard.get("type") == "received" and isinstance(held, int) and 0 <= held <= size:
            relay.confirm(held)
        elif heard.get("type") in ("done", "failed"):
            outcome = str(heard["type"])
            break
    if not verdict.done():
        verdict.set_result(outcome)


async def _verdict(verdict: "asyncio.Future[str]") -> str:
    """The receiver answers `{"type": "done"}` once the SHA-256 checks out."""
    try:
        async with asyncio.timeout(VERDICT_TIMEOUT):
            return await asyncio.shield(verdict)
    except TimeoutError:
        return ""


async def _stopped(task: "asyncio.Task[None]") -> None:
    """Cancel `task` and wait until it has stopped (it may be writing to the socket)."""
    task.cancel()
    await asyncio.wait({task})
    if not task.cancelled() and (failure := task.exception()) is not None:
        logger.debug("Relay side task ended with %r", failure)  # its socket went away


async def _tell_progress(end: RelayEnd, relay: Relay) -> None:
    """Pass on to the sender what the receiver holds, at most every `PROGRESS_INTERVAL`."""
    while True:
        await relay.confirmation.wait()
        relay.confirmation.clear()
        await end.send_text(json.dumps({"type": "progress", "bytes": relay.confirmed}))
        await asyncio.sleep(PROGRESS_INTERVAL)


def _party(transfer: Transfer, side: Side) -> str:
    return transfer.sender_id if side == "sender" else transfer.receiver_id


async def _refuse(end: RelayEnd, detail: str, code: int, reason: str) -> None:
    """A socket that may not join gets one error frame and is closed."""
    try:
        await end.send_text(json.dumps({"type": "error", "detail": detail}))
    except Exception:
        logger.debug("Could not tell a refused end why", exc_info=True)
    await end.close(code, reason)


def _parse(text: str | None) -> dict[str, object]:
    try:
        value = json.loads(text or "")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
