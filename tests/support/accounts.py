"""Create signed-in users against a running server, each with a unique email."""

import itertools
import os

from hypersend.client import HyperSendClient

PASSWORD = "correct horse battery"
_counter = itertools.count()


def unique_email(stem: str = "user") -> str:
    return f"{stem}-{os.getpid()}-{next(_counter)}@example.test"


async def signed_in(url: str, name: str = "Test User") -> HyperSendClient:
    """A new account, signed in; the caller closes the client."""
    client = HyperSendClient(url)
    email = unique_email(name.split()[0].lower())
    await client.register(email, PASSWORD, name)
    await client.login(email, PASSWORD)
    return client


async def invited(server_url: str, admin: HyperSendClient, name: str) -> HyperSendClient:
    """A new signed-in account, registered with a fresh invite from `admin`."""
    invite = await admin.admin.create_invite()
    client = HyperSendClient(server_url)
    email = unique_email(name.split()[0].lower())
    await client.register(email, PASSWORD, name, invite_code=invite.code)
    await client.login(email, PASSWORD)
    return client


async def contact_id(client: HyperSendClient, other: HyperSendClient) -> str:
    """`other`'s user id, once the two share a (direct) chat, as P2P offers require."""
    other_id = (await other.me()).id
    await client.open_direct_chat(other_id)
    return other_id
