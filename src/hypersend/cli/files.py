"""File commands: send (upload, optionally into a chat) and fetch (download)."""

import argparse
from pathlib import Path
from typing import Any

from hypersend.cli.profile import signed_in_client
from hypersend.cli.progress import ProgressBar, human_bytes


def register(commands: Any) -> None:
    send = commands.add_parser("send", help="upload a file (resumable), optionally into a chat")
    send.add_argument("file", type=Path)
    send.add_argument("--chat", help="post it as a file message in this chat")
    send.add_argument("--parallel", type=int, default=4, help="chunk streams (default 4)")
    send.add_argument("--quiet", action="store_true", help="no progress bar")
    send.set_defaults(handler=_send)

    fetch = commands.add_parser("fetch", help="download a file (resumable) and verify it")
    fetch.add_argument("file_id")
    fetch.add_argument("-o", "--output", type=Path, help="file or folder (default: here)")
    fetch.add_argument("--quiet", action="store_true", help="no progress bar")
    fetch.set_defaults(handler=_fetch)


async def _send(args: argparse.Namespace) -> int:
    path: Path = args.file
    if not path.is_file():
        print(f"hypersend: {path} is not a file")
        return 2
    progress = None if args.quiet else ProgressBar(f"send {path.name}")
    async with signed_in_client(args) as client:
        info = await client.upload_file(
            path, chat_id=args.chat, parallel=args.parallel, progress=progress
        )
        if args.chat:
            await client.send_message(args.chat, file_id=info.file_id)
    print(f"{info.file_id}  {human_bytes(info.size)}  sha256-chunks {info.content_hash}")
    if not args.quiet:
        print(
            f"Content hash: the SHA-256 of the SHA-256s of its {human_bytes(info.chunk_size)}"
            " chunks (what `hypersend fetch` verifies); it differs from `sha256sum` of the file."
        )
    return 0


async def _fetch(args: argparse.Namespace) -> int:
    async with signed_in_client(args) as client:
        info = await client.file_info(args.file_id)
        target: Path = args.output or Path(info.filename)
        if target.is_dir():
            target = target / info.filename
        progress = None if args.quiet else ProgressBar(f"fetch {info.filename}")
        await client.download_file(info.file_id, target, progress=progress)
    print(f"{target}  {human_bytes(info.size)}  verified")
    return 0
