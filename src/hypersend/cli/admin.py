"""`hypersend admin ...`: manage accounts and invites.

Through the API with the profile's (admin) session when signed in; with `--local` (or when
not signed in) on the server's own data under `DATA_ROOT`, e.g. to create the first account
of a `closed` server or to rescue a server whose admins are locked out.
"""

import argparse
import re
import secrets
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Protocol

from hypersend.cli.profile import profile_from_args, signed_in_client
from hypersend.cli.progress import human_bytes
from hypersend.client import AccountInfo, InvalidInput, InviteInfo

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}


# command: (changes, help, what it says when done)
_SWITCHES: dict[str, tuple[dict[str, bool], str, str]] = {
    "disable": (
        {"disabled": True},
        "disable an account; its sessions end at once",
        "Disabled {email}; its sessions have ended",
    ),
    "enable": ({"disabled": False}, "re-enable a disabled account", "Enabled {email}"),
    "promote": ({"is_admin": True}, "make an account an admin", "{email} is now an admin"),
    "demote": ({"is_admin": False}, "take admin rights away", "{email} is no longer an admin"),
}


class AdminBackend(Protocol):
    """What the commands need; `hypersend.client.AdminApi` and `LocalAdmin` both provide it."""

    async def invites(self) -> list[InviteInfo]: ...

    async def create_invite(self, *, max_uses: int, expires_in_hours: float) -> InviteInfo: ...

    async def delete_invite(self, code: str) -> None: ...

    async def users(self) -> list[AccountInfo]: ...

    async def user_by_email(self, email: str) -> AccountInfo: ...

    async def create_user(self, email: str, password: str, name: str, *, is_admin: bool) -> str: ...

    async def update_user(self, user_id: str, **changes: Any) -> AccountInfo: ...

    async def reset_password(self, user_id: str, password: str) -> None: ...


def register(commands: Any) -> None:
    admin = commands.add_parser("admin", help="manage accounts and invites (admins)")
    actions = admin.add_subparsers(dest="admin_command", required=True, metavar="ACTION")
    where = argparse.ArgumentParser(add_help=False)
    where.add_argument(
        "--local",
        "--direct",  # its first name, kept for scripts
        dest="local",
        action="store_true",
        help="work on the data under DATA_ROOT instead of through the server's API",
    )
    where.add_argument("--data-root", type=Path, help="with --local (default: $DATA_ROOT)")

    def action(name: str, handler: Callable[..., Awaitable[int]], help: str) -> Any:
        parser = actions.add_parser(name, help=help, parents=[where])
        parser.set_defaults(handler=lambda args: _run(args, handler))
        return parser

    action("users", _users, "list accounts with the storage they use")
    create = action("create-user", _create_user, "create an account (for closed servers)")
    create.add_argument("email")
    create.add_argument("--name", required=True)
    create.add_argument("--admin", action="store_true", help="make it an admin")
    create.add_argument("--password-stdin", action="store_true")
    for name, (changes, text, _) in _SWITCHES.items():
        switch = action(name, _switch, text)
        switch.add_argument("email")
        switch.set_defaults(changes=changes, switch=name)
    quota = action("set-quota", _set_quota, "set an account's storage quota")
    quota.add_argument("email")
    quota.add_argument("size", help="e.g. 50G, 500M, 'unlimited', or 'default'")
    reset = action("reset-password", _reset_password, "set a new password (ends sessions)")
    reset.add_argument("email")
    reset.add_argument("--password-stdin", action="store_true")
    invite = action("invite", _invite, "create an invite code")
    invite.add_argument("--uses", type=int, default=1, help="sign-ups it allows (default 1)")
    invite.add_argument("--hours", type=float, default=72, help="lifetime (default 72)")
    action("invites", _invites, "list invite codes")
    revoke = action("revoke-invite", _revoke_invite, "delete an invite code")
    revoke.add_argument("code")


async def _run(args: argparse.Namespace, handler: Callable[..., Awaitable[int]]) -> int:
    async with _backend(args) as backend:
        return await handler(args, backend)


@asynccontextmanager
async def _backend(args: argparse.Namespace) -> AsyncIterator[AdminBackend]:
    if args.local or profile_from_args(args).tokens is None:
        from hypersend.cli.local_admin import open_local_admin
        from hypersend.config import Settings

        settings = Settings(data_root=args.data_root) if args.data_root else Settings()
        if not args.local:  # signed out: say where this acts, as it is not a server
            database = settings.database_description()
            print(
                f"Not signed in: acting on the local data folder {settings.data_root.resolve()}"
                f" ({database}); sign in to manage a server through its API.",
                file=sys.stderr,
            )
        async with open_local_admin(settings) as local:
            yield local
    else:
        async with signed_in_client(args) as client:
            yield client.admin


def parse_quota(text: str) -> int | None:
    """'50G' -> bytes; 'unlimited' -> 0; 'default' -> None (the server's default quota)."""
    word = text.strip().lower()
    if word == "default":
        return None
    if word == "unlimited":
        return 0
    match = _SIZE.match(word)
    if not match:
        raise InvalidInput(422, "invalid_size", f"not a size: {text!r} (try 50G or 500M)")
    return int(float(match[1]) * _UNITS[match[2].lower()])


def _describe_quota(quota: int | None) -> str:
    if quota is None:
        return "default"
    return "unlimited" if quota == 0 else human_bytes(quota)


def _new_password(args: argparse.Namespace) -> tuple[str, bool]:
    """The password from stdin, or a generated one (and True: show it to the operator)."""
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n"), False
    return secrets.token_urlsafe(12), True


async def _users(args: argparse.Namespace, backend: AdminBackend) -> int:
    print(f"{'EMAIL':32} {'NAME':20} {'ROLE':6} {'STATUS':8} {'USED':>10} QUOTA")
    for user in await backend.users():
        print(
            f"{user.email:32} {user.name[:20]:20} {'admin' if user.is_admin else 'user':6}"
            f" {'disabled' if user.disabled else 'active':8} {human_bytes(user.bytes_used):>10}"
            f" {_describe_quota(user.quota_bytes)}"
        )
    return 0


async def _create_user(args: argparse.Namespace, backend: AdminBackend) -> int:
    password, generated = _new_password(args)
    user_id = await backend.create_user(args.email, password, args.name, is_admin=args.admin)
    print(f"Created {args.email} ({user_id}){' as admin' if args.admin else ''}")
    if generated:
        print(f"Password: {password}")
    return 0


async def _change(backend: AdminBackend, email: str, **changes: Any) -> AccountInfo:
    user = await backend.user_by_email(email)
    return await backend.update_user(user.id, **changes)


async def _switch(args: argparse.Namespace, backend: AdminBackend) -> int:
    await _change(backend, args.email, **args.changes)
    print(_SWITCHES[args.switch][2].format(email=args.email))
    return 0


async def _set_quota(args: argparse.Namespace, backend: AdminBackend) -> int:
    user = await _change(backend, args.email, quota_bytes=parse_quota(args.size))
    print(f"Quota of {args.email}: {_describe_quota(user.quota_bytes)}")
    return 0


async def _reset_password(args: argparse.Namespace, backend: AdminBackend) -> int:
    password, generated = _new_password(args)
    user = await backend.user_by_email(args.email)
    await backend.reset_password(user.id, password)
    print(f"New password set for {args.email}; its sessions have ended")
    if generated:
        print(f"Password: {password}")
    return 0


async def _invite(args: argparse.Namespace, backend: AdminBackend) -> int:
    invite = await backend.create_invite(max_uses=args.uses, expires_in_hours=args.hours)
    print(invite.code)
    print(
        f"Valid for {invite.max_uses} sign-up(s) until {invite.expires_at:%Y-%m-%d %H:%M} UTC",
        file=sys.stderr,
    )
    return 0


async def _invites(args: argparse.Namespace, backend: AdminBackend) -> int:
    print(f"{'CODE':20} {'USES':>7} EXPIRES (UTC)")
    for invite in await backend.invites():
        uses = f"{invite.uses}/{invite.max_uses}"
        print(f"{invite.code:20} {uses:>7} {invite.expires_at:%Y-%m-%d %H:%M}")
    return 0


async def _revoke_invite(args: argparse.Namespace, backend: AdminBackend) -> int:
    await backend.delete_invite(args.code)
    print(f"Deleted invite {args.code}")
    return 0
