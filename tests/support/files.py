"""Real files with random bytes, and raw chunk requests."""

import hashlib
import os
from pathlib import Path

import httpx

from hypersend.client import HyperSendClient


def random_file(path: Path, size: int) -> Path:
    with path.open("wb") as out:
        left = size
        while left:
            piece = os.urandom(min(left, 1 << 20))
            out.write(piece)
            left -= len(piece)
    return path


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


async def put_chunk(
    client: HyperSendClient,
    file_id: str,
    index: int,
    body: bytes,
    *,
    digest: str | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """PUT one chunk and return the raw response, whatever its status."""
    all_headers = {**client.api.auth_headers(), "Content-Type": "application/octet-stream"}
    if digest is not None:
        all_headers["X-Chunk-SHA256"] = digest
    all_headers.update(headers or {})
    return await client.api.http.put(
        f"/files/upload/chunk/{file_id}",
        params={"index": index},
        content=body,
        headers=all_headers,
    )


async def start(client: HyperSendClient, size: int, **extra: object) -> dict[str, object]:
    data: dict[str, object] = await client.api.json(
        "POST", "/files/upload/start", json={"filename": "data.bin", "size": size, **extra}
    )
    return data
