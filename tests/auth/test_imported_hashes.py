"""Accounts imported from the original HyperSend keep their bcrypt hashes working."""

import sqlite3

import bcrypt

from hypersend.client import HyperSendClient
from tests.support.accounts import PASSWORD, unique_email
from tests.support.server import ServerProcess


async def test_bcrypt_hash_signs_in_and_is_upgraded_to_argon2(own_server: ServerProcess) -> None:
    own_server.start()
    email = unique_email("imported")
    async with HyperSendClient(own_server.url) as client:
        await client.register(email, "a different password", "Imported")
    own_server.stop()
    legacy = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()
    with sqlite3.connect(own_server.data_root / "hypersend.db") as db:
        db.execute("UPDATE users SET password_hash = ? WHERE email = ?", (legacy, email))
    own_server.start()
    async with HyperSendClient(own_server.url) as client:
        await client.login(email, PASSWORD)
        assert (await client.me()).email == email
    with sqlite3.connect(own_server.data_root / "hypersend.db") as db:
        (stored,) = db.execute(
            "SELECT password_hash FROM users WHERE email = ?", (email,)
        ).fetchone()
    assert stored.startswith("$argon2id$")
