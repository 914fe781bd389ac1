"""The `hypersend` command: run the server, and talk to one from a terminal."""

import argparse
import asyncio
import sys
from collections.abc import Sequence

from hypersend import __version__
from hypersend.cli import account, admin, app, chats, files, migrate, move_files, p2p, serve
from hypersend.cli.profile import DEFAULT_PROFILE_PATH
from hypersend.client import HyperSendError

COMMAND_GROUPS = (serve, account, chats, files, p2p, admin, migrate, move_files, app)
SERVERLESS = (
    serve.run,
    migrate.run,
    move_files.run,
)  # they act on a data folder, not through a server


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hypersend", description="Self-hosted chat and very large file transfer."
    )
    parser.add_argument(
        "--profile",
        default=str(DEFAULT_PROFILE_PATH),
        help="where the CLI keeps its server URL and session (default: %(default)s)",
    )
    parser.add_argument("--server", help="server URL, e.g. http://127.0.0.1:8000")
    parser.add_argument("--version", action="version", version=f"hypersend {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in COMMAND_GROUPS:
        group.register(commands)
    for command in _all_commands(commands):
        # `hypersend chats --server URL` as well as `hypersend --server URL chats`
        if command.get_default("handler") not in SERVERLESS:
            command.add_argument("--server", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    return parser


def _all_commands(
    commands: "argparse._SubParsersAction[argparse.ArgumentParser]",
) -> list[argparse.ArgumentParser]:
    """Every command's parser, those of command groups (`admin users`) included."""
    found = []
    for command in dict.fromkeys(commands.choices.values()):
        subcommands = [
            action for action in command._actions if isinstance(action, argparse._SubParsersAction)
        ]
        found.extend(_all_commands(subcommands[0]) if subcommands else [command])
    return found


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        result = args.handler(args)
        if asyncio.iscoroutine(result):
            result = asyncio.run(result)
    except HyperSendError as exc:
        print(f"hypersend: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return int(result or 0)
