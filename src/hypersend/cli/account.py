"""Account commands: register, login, logout, whoami."""

import argparse
import getpass
import sys
from typing import Any

from hypersend.cli.profile import profile_from_args, signed_in_client
from hypersend.client import HyperSendClient


def register(commands: Any) -> None:
    sign_up = commands.add_parser("register", help="create an account on a server")
    sign_up.add_argument("email")
    sign_up.add_argument("--name", required=True)
    sign_up.add_argument("--invite", help="invite code, if the server asks for one")
    _password_options(sign_up)
    sign_up.set_defaults(handler=_register)

    login = commands.add_parser("login", help="sign in and remember the session")
    login.add_argument("email")
    _password_options(login)
    login.set_defaults(handler=_login)

    logout = commands.add_parser("logout", help="end the session on the server and forget it")
    logout.set_defaults(handler=_logout)

    whoami = commands.add_parser("whoami", help="show the signed-in account")
    whoami.set_defaults(handler=_whoami)


def _password_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )


def _read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    return getpass.getpass("Password: ")


async def _register(args: argparse.Namespace) -> int:
    profile = profile_from_args(args)
    password = _read_password(args)
    async with HyperSendClient(profile.server) as client:
        user = await client.register(args.email, password, args.name, invite_code=args.invite)
    profile.save()
    print(f"Registered {user.email} ({user.id}) on {profile.server}")
    return 0


async def _login(args: argparse.Namespace) -> int:
    profile = profile_from_args(args)
    password = _read_password(args)
    async with HyperSendClient(profile.server, on_tokens=profile.remember) as client:
        await client.login(args.email, password)
        me = await client.me()
    print(f"Signed in as {me.name} <{me.email}> on {profile.server}")
    return 0


async def _logout(args: argparse.Namespace) -> int:
    async with signed_in_client(args) as client:
        await client.logout()
    print("Signed out")
    return 0


async def _whoami(args: argparse.Namespace) -> int:
    async with signed_in_client(args) as client:
        me = await client.me()
    role = " (admin)" if me.is_admin else ""
    print(f"{me.name} <{me.email}>{role} id={me.id} on {client.base_url}")
    return 0
