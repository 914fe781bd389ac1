"""tus clients no one here wrote: tuspy (Python) and tus-js-client under Node.js, each against
a running server, signed in with a bearer token."""

import base64
import filecmp
import json
import os
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
from tusclient.client import TusClient
from tusclient.uploader.uploader import Uploader

from hypersend.client import HyperSendClient
from hypersend.content_hash import ContentHasher

TUS_JS_CLIENT = "tus-js-client@4.3.1"
NODE_PACKAGES = Path(sys.prefix) / "node-packages"  # inside the virtual environment


def bearer(client: HyperSendClient) -> dict[str, str]:
    assert client.tokens is not None
    return {"Authorization": f"Bearer {client.tokens.access_token}"}


def tuspy_uploader(
    url: str,
    client: HyperSendClient,
    path: Path,
    *,
    upload_url: str | None = None,
    **options: object,
) -> Uploader:
    """tuspy's uploader of `path` to the server at `url` (resuming `upload_url` if given)."""
    tus = TusClient(f"{url}/files/tus/", headers=bearer(client))
    metadata = options.pop("metadata", {"filename": path.name})
    return tus.uploader(str(path), url=upload_url, metadata=metadata, **options)


TUS = {"Tus-Resumable": "1.0.0"}
OCTETS = {**TUS, "Content-Type": "application/offset+octet-stream"}


async def create(
    client: HyperSendClient, length: int, **headers: str
) -> tuple[httpx.Response, str]:
    """POST a new tus upload of `length` bytes: the answer and its Location."""
    answer = await client.api.http.post(
        "/files/tus/",
        headers={**bearer(client), **TUS, "Upload-Length": str(length), **headers},
    )
    return answer, answer.headers.get("location", "")


async def patch(
    client: HyperSendClient,
    location: str,
    offset: int,
    body: bytes | AsyncIterator[bytes],
    **headers: str,
) -> httpx.Response:
    return await client.api.http.patch(
        location,
        content=body,
        headers={**bearer(client), **OCTETS, "Upload-Offset": str(offset), **headers},
    )


async def offset_of(client: HyperSendClient, location: str) -> int:
    answer = await client.api.http.head(location, headers={**bearer(client), **TUS})
    assert answer.status_code == 200, answer.status_code
    return int(answer.headers["upload-offset"])


def file_id_of(location: str) -> str:
    return location.rstrip("/").rsplit("/", 1)[-1]


async def landed_intact(client: HyperSendClient, location: str, source: Path) -> bool:
    """Whether the finished upload at `location` has the content hash of `source` and
    downloads (through the chunk API's route) byte-identical to it."""
    file_id = file_id_of(location)
    info = await client.file_info(file_id)
    copy = source.with_name(f"{source.name}.downloaded")
    await client.download_file(file_id, copy)
    try:
        return info.content_hash == expected_content_hash(source, info.chunk_size) and filecmp.cmp(
            copy, source, shallow=False
        )
    finally:
        copy.unlink()


def metadata_header(**fields: str) -> str:
    return ",".join(
        f"{key} {base64.b64encode(value.encode()).decode()}" for key, value in fields.items()
    )


def expected_content_hash(path: Path, chunk_size: int) -> str:
    hasher = ContentHasher(chunk_size)
    with path.open("rb") as source:
        while piece := source.read(1 << 20):
            hasher.update(piece)
    return hasher.hexdigest()


def node_modules() -> Path:
    """tus-js-client from the npm registry, installed once into a folder of its own."""
    folder = NODE_PACKAGES
    if not (folder / "node_modules" / "tus-js-client").is_dir():
        folder.mkdir(parents=True, exist_ok=True)
        npm = shutil.which("npm")
        assert npm is not None, "npm is needed (make test installs Node.js)"
        subprocess.run(
            [npm, "install", "--no-audit", "--no-fund", "--prefix", str(folder), TUS_JS_CLIENT],
            check=True,
            capture_output=True,
            timeout=300,
        )
    return folder / "node_modules"


NODE_UPLOADER = r"""
const fs = require("fs");
const tus = require("tus-js-client");
const [endpoint, token, path, chunkSize, resumeUrl] = process.argv.slice(1);  // -e
const upload = new tus.Upload(fs.createReadStream(path), {
  endpoint,
  uploadUrl: resumeUrl || null,
  uploadSize: fs.statSync(path).size,
  chunkSize: Number(chunkSize) || Infinity,
  headers: { Authorization: `Bearer ${token}` },
  metadata: { filename: require("path").basename(path), filetype: "application/octet-stream" },
  retryDelays: [0, 200, 500, 1000, 2000],
  onError: (error) => { console.log(JSON.stringify({ error: String(error) })); process.exit(1); },
  onSuccess: () => { console.log(JSON.stringify({ url: upload.url })); process.exit(0); },
});
upload.start();
"""


def node_upload(
    url: str,
    client: HyperSendClient,
    path: Path,
    *,
    chunk_size: int = 0,
    resume: str = "",
    environment: dict[str, str] | None = None,
) -> dict[str, str]:
    """Upload `path` with tus-js-client under Node.js; its last line of output, as JSON."""
    assert client.tokens is not None
    done = subprocess.run(
        [
            "node",
            "-e",
            NODE_UPLOADER,
            f"{url}/files/tus/",
            client.tokens.access_token,
            str(path),
            str(chunk_size),
            resume,
        ],
        env={**os.environ, "NODE_PATH": str(node_modules()), **(environment or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )
    lines = done.stdout.strip().splitlines()
    assert lines, done.stderr
    result: dict[str, str] = json.loads(lines[-1])
    return result
