"""The storage interface: one repository per domain, bundled as `Storage`.

Both backends (SQLite, MongoDB) implement these protocols; the contract tests in
`tests/storage` run the same assertions against each.
"""

from datetime import datetime
from typing import Protocol

from hypersend.config import Settings
from hypersend.storage.models import Session, User


class UserRepository(Protocol):
    async def create(self, user: User) -> None:
        """Insert a user; raise `DuplicateError` when the email is taken."""

    async def get(self, user_id: str) -> User | None: ...

    async def get_by_email(self, email: str) -> User | None: ...

    async def search(self, text: str, *, limit: int, exclude_id: str) -> list[User]:
        """Users whose name or email contains `text` (case-insensitive), by name."""

    async def get_many(self, user_ids: list[str]) -> list[User]: ...

    async def count(self) -> int: ...

    async def set_password_hash(self, user_id: str, password_hash: str) -> None: ...


class SessionRepository(Protocol):
    async def create(self, session: Session) -> None: ...

    async def get(self, session_id: str) -> Session | None: ...

    async def rotate_refresh(
        self, session_id: str, *, from_generation: int, expires_at: datetime
    ) -> bool:
        """Advance the refresh generation if it is still `from_generation` (compare-and-set)."""

    async def revoke(self, session_id: str) -> None: ...

    async def revoke_all_for_user(self, user_id: str) -> None: ...


class Storage(Protocol):
    users: UserRepository
    sessions: SessionRepository

    async def ping(self) -> None:
        """Raise if the database cannot be reached."""

    async def close(self) -> None: ...


async def open_storage(settings: Settings) -> Storage:
    """Open the backend the settings ask for (the embedded SQLite database by default)."""
    from hypersend.storage.sqlite import open_sqlite_storage

    return await open_sqlite_storage(settings.database_path, durable=settings.durable_uploads)
