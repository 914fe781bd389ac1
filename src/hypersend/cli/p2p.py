"""`hypersend p2p send FILE --to EMAIL` and `hypersend p2p receive [TRANSFER_ID] [-o DIR]`:
a file straight from one device to another through the server's relay, never stored there."""

import argparse
import asyncio
import contextlib
import sys
from pathlib import Path
from typing import Any

from hypersend.cli.lookup import user_id_for
from hypersend.cli.profile import signed_in_client
from hypersend.cli.progress import ProgressBar, human_bytes
from hypersend.client import HyperSendClient, HyperSendError
from hypersend.client.p2p import TransferFailed


def register(commands: Any) -> None:
    p2p = commands.add_parser("p2p", help="send a file directly, without storing it on the server")
    actions = p2p.add_subparsers(dest="p2p_command", required=True, metavar="ACTION")

    send = actions.add_parser("send", help="offer a file to someone and stream it when they accept")
    send.add_argument("file", type=Path)
    whom = send.add_mutually_exclusive_group(required=True)
    whom.add_argument("--to", metavar="EMAIL", help="who receives it")
    whom.add_argument(
        "--resume", metavar="TRANSFER_ID", help="go on with a transfer whose relay broke"
    )
    send.add_argument("--chat", help="offer it in this chat (default: your chat with them)")
    send.add_argument("--quiet", action="store_true", help="no progress bar")
    send.set_defaults(handler=_send)

    receive = actions.add_parser(
        "receive", help="receive an offered file (the newest, or wait for one)"
    )
    receive.add_argument("transfer_id", nargs="?")
    receive.add_argument("-o", "--output", type=Path, default=Path(), help="folder (default: here)")
    receive.add_argument("--quiet", action="store_true", help="no progress bar")
    receive.set_defaults(handler=_receive)

    listing = actions.add_parser("list", help="your transfers, newest first")
    listing.add_argument("--open", action="store_true", help="only offered and active ones")
    listing.set_defaults(handler=_list)


async def _send(args: argparse.Namespace) -> int:
    path: Path = args.file
    if not path.is_file():
        print(f"hypersend: {path} is not a file", file=sys.stderr)
        return 2
    async with signed_in_client(args) as client:
        if args.resume:
            transfer_id = args.resume
        else:
            receiver_id = await user_id_for(client, args.to)
            chat_id = args.chat or (await client.open_direct_chat(receiver_id)).id
            offer = await client.offer_transfer(receiver_id, path, chat_id=chat_id)
            transfer_id = offer["transfer_id"]
            print(f"Offered {path.name} to {args.to}: transfer {transfer_id}", flush=True)
        print(f"Waiting for the receiver (hypersend p2p receive {transfer_id})", file=sys.stderr)
        progress = None if args.quiet else ProgressBar(f"p2p {path.name}")
        try:
            await client.send_transfer(transfer_id, path, progress=progress)
        except TransferFailed:
            print(f"To go on: hypersend p2p send {path} --resume {transfer_id}", file=sys.stderr)
            raise
        except (KeyboardInterrupt, asyncio.CancelledError):
            with contextlib.suppress(HyperSendError):
                await client.cancel_transfer(transfer_id)
            raise
    print(f"Delivered {path.name} ({human_bytes(path.stat().st_size)}); the receiver verified it")
    return 0


async def _receive(args: argparse.Namespace) -> int:
    async with signed_in_client(args) as client:
        transfer_id = args.transfer_id or await _next_offer(client)
        transfer = await client.transfer(transfer_id)
        progress = None if args.quiet else ProgressBar(f"p2p {transfer['filename']}")
        args.output.mkdir(parents=True, exist_ok=True)
        target = await client.receive_transfer(transfer_id, args.output, progress=progress)
    print(f"{target}  {human_bytes(transfer['size'])}  verified")
    return 0


async def _list(args: argparse.Namespace) -> int:
    async with signed_in_client(args) as client:
        me = (await client.me()).id
        for transfer in await client.transfers(open_only=args.open):
            direction = "to  " if transfer["sender_id"] == me else "from"
            print(
                f"{transfer['transfer_id']}  {transfer['status']:9}  {direction}"
                f"  {transfer['filename']}  {human_bytes(transfer['size'])}"
            )
    return 0


async def _next_offer(client: HyperSendClient) -> str:
    """The newest open offer made to me, or the next one to arrive."""
    me = (await client.me()).id
    async with await client.connect_events() as events:
        for transfer in await client.transfers(open_only=True):
            if transfer["receiver_id"] == me:
                return str(transfer["transfer_id"])
        print("Waiting for a transfer to be offered to you...", file=sys.stderr)
        async for event in events:
            if event.get("type") == "transfer.offered":
                return str(event["transfer"]["transfer_id"])
    raise SystemExit("hypersend: the server closed the connection")
