"""P2P transfers: the file streams from the sender's disk to the receiver's through the
server's relay, and is never stored on the server. Both sides resume from the receiver's
`.part` file after a break; the receiver verifies the SHA-256 the sender announces."""

import asyncio
import hashlib
import json
from pathlib import Path
from typing import Any, BinaryIO

import websockets

from hypersend.client.errors import HyperSendError
from hypersend.client.http import ApiSession
from hypersend.client.transfers import (
    PIECE,
    IntegrityError,
    Progress,
    hash_prefix,
    write_and_hash,
)

FRAME_LIMIT = 2 * 1024 * 1024


class TransferFailed(HyperSendError):
    """The relay ended before the file was complete (cancelled, expired, or a side left)."""


async def offer(
    api: ApiSession, receiver_id: str, path: Path, *, chat_id: str | None = None
) -> dict[str, Any]:
    size = (await asyncio.to_thread(path.stat)).st_size
    body: dict[str, Any] = {"receiver_id": receiver_id, "filename": path.name, "size": size}
    if chat_id:
        body["chat_id"] = chat_id
    result: dict[str, Any] = await api.json("POST", "/p2p/transfers", json=body)
    return result


async def send(
    api: ApiSession, transfer_id: str, path: Path, *, progress: Progress | None = None
) -> None:
    """Stream `path` once the receiver is there, from the offset it asks for."""
    try:
        await _send(api, transfer_id, path, progress)
    except websockets.ConnectionClosed as exc:
        raise TransferFailed(f"relay closed: {exc.rcvd.reason if exc.rcvd else exc}") from exc


async def _send(api: ApiSession, transfer_id: str, path: Path, progress: Progress | None) -> None:
    size = (await asyncio.to_thread(path.stat)).st_size
    async with _connect(api, f"/p2p/transfers/{transfer_id}/send") as ws:
        start = await _control(ws)
        if start.get("type") != "start":
            raise TransferFailed(str(start.get("detail", start)))
        offset = int(start["offset"])
        digest = hashlib.sha256()
        with open(path, "rb") as source:  # noqa: ASYNC230 (reads go to a thread)
            await asyncio.to_thread(hash_prefix, source, digest, offset)
            sent = offset
            while piece := await asyncio.to_thread(_read_hashed, source, digest):
                await ws.send(piece)
                sent += len(piece)
                if progress:
                    progress(sent, size)
        await ws.send(json.dumps({"type": "done", "sha256": digest.hexdigest()}))
        try:
            await ws.wait_closed()
        finally:
            if ws.close_code != 1000:
                raise TransferFailed(f"relay closed: {ws.close_reason}")


async def receive(
    api: ApiSession, transfer_id: str, directory: Path, *, progress: Progress | None = None
) -> Path:
    """Receive into `directory/<filename>`, resuming `<filename>.part`, and verify it."""
    transfer = await api.json("GET", f"/p2p/transfers/{transfer_id}")
    target = directory / Path(transfer["filename"]).name
    partial = target.with_name(target.name + ".part")
    size = int(transfer["size"])
    digest = hashlib.sha256()
    have = 0
    if await asyncio.to_thread(partial.exists):
        with open(partial, "rb") as existing:  # noqa: ASYNC230
            have = await asyncio.to_thread(hash_prefix, existing, digest, size)
    path = f"/p2p/transfers/{transfer_id}/receive?offset={have}"
    async with _connect(api, path) as ws:
        with open(partial, "ab") as out:  # noqa: ASYNC230 (writes go to a thread)
            async for frame in ws:
                if isinstance(frame, bytes):
                    await write_and_hash(out, digest, frame)
                    have += len(frame)
                    if progress:
                        progress(have, size)
                    continue
                control = json.loads(frame)
                if control.get("type") == "done":
                    break
                raise TransferFailed(str(control.get("detail", control)))
            else:
                raise TransferFailed(f"relay closed: {ws.close_reason or 'interrupted'}")
        verified = have == size and digest.hexdigest() == control.get("sha256")
        await ws.send(json.dumps({"type": "done" if verified else "failed"}))
    if not verified:
        await asyncio.to_thread(partial.unlink)
        raise IntegrityError("The received bytes do not match the sender's SHA-256")
    await asyncio.to_thread(partial.replace, target)
    return target


def _connect(api: ApiSession, path: str) -> websockets.connect:
    return api.websocket(path, max_size=FRAME_LIMIT, max_queue=4)


async def _control(ws: websockets.ClientConnection) -> dict[str, Any]:
    frame = await ws.recv()
    value = json.loads(frame) if isinstance(frame, str) else {}
    return value if isinstance(value, dict) else {}


# Hashing stays off the event loop, which has the WebSocket (and, in the app, the screen)
# to serve.
def _read_hashed(source: BinaryIO, digest: "hashlib._Hash") -> bytes:
    piece = source.read(PIECE)
    digest.update(piece)
    return piece
