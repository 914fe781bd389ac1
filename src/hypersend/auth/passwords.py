"""Password hashing: Argon2id for new hashes; bcrypt hashes (from the original HyperSend) verify.

Hashing is deliberately slow, so it always runs in a worker thread.
"""

import asyncio

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from pwdlib.hashers.bcrypt import BcryptHasher

MIN_PASSWORD_LENGTH = 8


class PasswordHasher:
    def __init__(self) -> None:
        self._hash = PasswordHash((Argon2Hasher(), BcryptHasher()))
        self._decoy = self._hash.hash("decoy password for unknown accounts")

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self._hash.hash, password)

    async def verify(self, password: str, password_hash: str) -> tuple[bool, str | None]:
        """Whether `password` matches; the second value is a stronger hash to store, if any."""
        return await asyncio.to_thread(self._hash.verify_and_update, password, password_hash)

    async def burn_time(self, password: str) -> None:
        """Spend what a real check costs, so unknown emails cannot be told apart by timing."""
        await asyncio.to_thread(self._hash.verify, password, self._decoy)
