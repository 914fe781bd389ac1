"""P2P transfers: the file streams from the sender's disk to the receiver's through the
server's relay, and is never stored on the server. Both sides resume from the receiver's
`.part` file after a break; the receiver verifies the SHA-256 the sender announces.

Progress is what the receiver holds: it reports `{"type": "received", "bytes": N}` every
`CONFIRM_EVERY` bytes written, and the relay passes it on to the sender as `{"type":
"progress", "bytes": N}` (what left the sender's socket may still sit in buffers on the way)."""

import asyncio
import contextlib
import hashlib
import io
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from hypersend.client.errors import HyperSendError
from hypersend.client.http import ApiSession
from hypersend.client.transfers import (
    PIECE,
    IntegrityError,
    Progress,
    hash_prefix,
    write_and_hash,
)
from hypersend.client.websocket_stream import HandshakeRefused, WebSocketStream, open_websocket

CONFIRM_EVERY = 4 * 1024 * 1024


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
    size = (await asyncio.to_thread(path.stat)).st_size
    async with _relay(api, f"/p2p/transfers/{transfer_id}/send") as ws:
        start = await _control(ws)
        if start.get("type") != "start":
            raise TransferFailed(str(start.get("detail", start)))
        offset = int(start["offset"])
        if progress:
            progress(offset, size)
        hearing = asyncio.create_task(_hear_progress(ws, size, progress))
        try:
            digest = hashlib.sha256()
            with open(path, "rb") as source:  # noqa: ASYNC230 (reads go to a thread)
                await asyncio.to_thread(hash_prefix, source, digest, offset)
                async for piece in _read_ahead(source, digest):
                    await ws.send_binary(piece)
            await ws.send_text(json.dumps({"type": "done", "sha256": digest.hexdigest()}))
            await ws.wait_closed()
        finally:
            hearing.cancel()
        if ws.close_code != 1000:
            raise TransferFailed(f"relay closed: {ws.close_reason or 'interrupted'}")
        if progress:
            progress(size, size)


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
    async with _relay(api, f"/p2p/transfers/{transfer_id}/receive?offset={have}") as ws:
        control: dict[str, Any] = {}
        confirmed = have
        with open(partial, "ab") as out:  # noqa: ASYNC230 (writes go to a thread)
            async for item in ws.incoming():
                if isinstance(item, memoryview):
                    await write_and_hash(out, digest, item)
                    have += len(item)
                    if progress:
                        progress(have, size)
                    if have - confirmed >= CONFIRM_EVERY:
                        confirmed = have
                        await ws.send_text(json.dumps({"type": "received", "bytes": have}))
                    continue
                control = _parse(item)
                break
        if control.get("type") != "done":
            raise TransferFailed(
                str(control.get("detail") or f"relay closed: {ws.close_reason or 'interrupted'}")
            )
        verified = have == size and digest.hexdigest() == control.get("sha256")
        await ws.send_text(json.dumps({"type": "done" if verified else "failed"}))
    if not verified:
        await asyncio.to_thread(partial.unlink)
        raise IntegrityError("The received bytes do not match the sender's SHA-256")
    await asyncio.to_thread(partial.replace, target)
    return target


@contextlib.asynccontextmanager
async def _relay(api: ApiSession, path: str) -> AsyncIterator[WebSocketStream]:
    """One end of the relay; a refused or broken connection is TransferFailed."""
    try:
        async with open_websocket(api, path) as ws:
            yield ws
    except HandshakeRefused as exc:
        raise TransferFailed(str(exc)) from exc
    except (OSError, TimeoutError) as exc:  # ConnectionError included
        raise TransferFailed(f"relay closed: {exc}") from exc


async def _control(ws: WebSocketStream) -> dict[str, Any]:
    """The next text message (a control message), or {} if the relay closes first."""
    async for item in ws.incoming():
        if isinstance(item, str):
            return _parse(item)
    return {"detail": f"relay closed: {ws.close_reason or 'interrupted'}"}


async def _hear_progress(ws: WebSocketStream, size: int, progress: Progress | None) -> None:
    """Show the sender what the receiver has confirmed, as the relay passes it on."""
    async for item in ws.incoming():
        heard = _parse(item) if isinstance(item, str) else {}
        held = heard.get("bytes")
        if heard.get("type") == "progress" and isinstance(held, int) and progress:
            progress(min(held, size), size)


def _parse(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


async def _read_ahead(
    source: io.BufferedReader, digest: "hashlib._Hash"
) -> AsyncIterator[memoryview]:
    """The rest of `source` in pieces, each hashed into `digest`, the next one read while
    the caller sends this one. Reading and hashing stay off the event loop, which has the
    WebSocket (and, in the app, the screen) to serve. A piece is valid until the next is
    asked for."""
    buffers = (bytearray(PIECE), bytearray(PIECE))
    reading = asyncio.ensure_future(asyncio.to_thread(_read_hashed, source, digest, buffers[0]))
    try:
        turn = 0
        while count := await reading:
            piece = memoryview(buffers[turn])[:count]
            turn = 1 - turn
            reading = asyncio.ensure_future(
                asyncio.to_thread(_read_hashed, source, digest, buffers[turn])
            )
            yield piece
    finally:
        with contextlib.suppress(Exception):
            await reading  # never leave a read running on a file about to be closed


def _read_hashed(source: io.BufferedReader, digest: "hashlib._Hash", piece: bytearray) -> int:
    count = source.readinto(piece)
    digest.update(memoryview(piece)[:count])
    return count
