"""Password hashing: Argon2id for new hashes; bcrypt hashes (from the original HyperSend) verify.

Hashing is deliberately slow and memory-hard (Argon2id takes 64 MiB per hash), so it runs in
worker threads, at most one per CPU core at a time: a burst of sign-ins queues up instead of
multiplying the server's memory.
"""

import asyncio
import os
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from pwdlib.hashers.bcrypt import BcryptHasher

MIN_PASSWORD_LENGTH = 8
T = TypeVar("T")
P = ParamSpec("P")


class PasswordHasher:
    def __init__(self) -> None:
        self._hash = PasswordHash((Argon2Hasher(), BcryptHasher()))
        self._decoy = self._hash.hash("decoy password for unknown accounts")
        self._slots = asyncio.Semaphore(os.cpu_count() or 1)

    async def hash(self, password: str) -> str:
        return await self._in_thread(self._hash.hash, password)

    async def verify(self, password: str, password_hash: str) -> tuple[bool, str | None]:
        """Whether `password` matches; the second value is a stronger hash to store, if any."""
        return await self._in_thread(self._hash.verify_and_update, password, password_hash)

    async def burn_time(self, password: str) -> None:
        """Spend what a real check costs, so unknown emails cannot be told apart by timing."""
        await self._in_thread(self._hash.verify, password, self._decoy)

    async def _in_thread(self, work: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        async with self._slots:
            return await asyncio.to_thread(work, *args, **kwargs)
