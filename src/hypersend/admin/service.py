"""What admins may do: hand out invites and manage accounts.

Used by the `/admin` routes and, on the data directly, by `hypersend admin --local`.
"""

import secrets
from dataclasses import dataclass, replace
from datetime import timedelta
from enum import Enum

from hypersend.auth.service import AuthService
from hypersend.clock import utcnow
from hypersend.errors import Conflict, NotFound
from hypersend.storage import Storage
from hypersend.storage.models import Invite, User


class Keep(Enum):
    """Leave a field as it is (where None is itself a value)."""

    KEEP = "keep"


KEEP = Keep.KEEP


@dataclass(frozen=True, slots=True)
class UserChanges:
    name: str | None = None
    is_admin: bool | None = None
    disabled: bool | None = None
    quota_bytes: int | Keep | None = KEEP  # None: the server's default quota


@dataclass(frozen=True, slots=True)
class UserUsage:
    user: User
    bytes_used: int


class AdminService:
    def __init__(self, storage: Storage, auth: AuthService) -> None:
        self._storage = storage
        self._auth = auth

    async def create_invite(
        self, admin: User | None, *, max_uses: int, lifetime: timedelta
    ) -> Invite:
        """A new code; `admin` is None when made at the server's console."""
        now = utcnow()
        invite = Invite(
            code=secrets.token_urlsafe(12),
            created_by=admin.id if admin else None,
            created_at=now,
            expires_at=now + lifetime,
            max_uses=max_uses,
        )
        await self._storage.invites.create(invite)
        return invite

    async def invites(self) -> list[Invite]:
        return await self._storage.invites.list_all()

    async def delete_invite(self, code: str) -> None:
        if not await self._storage.invites.delete(code):
            raise NotFound("No such invite", code="invite_not_found")

    async def users(self, *, after: str | None, limit: int) -> list[UserUsage]:
        users = await self._storage.users.list_page(after=after, limit=limit)
        return await self._with_usage(users)

    async def user_by_email(self, email: str) -> UserUsage:
        user = await self._storage.users.get_by_email(email)
        if user is None:
            raise NotFound(f"No account for {email}", code="user_not_found")
        return (await self._with_usage([user]))[0]

    async def user(self, user_id: str) -> User:
        user = await self._storage.users.get(user_id)
        if user is None:
            raise NotFound("No such user", code="user_not_found")
        return user

    async def create_user(self, email: str, password: str, name: str, *, is_admin: bool) -> User:
        return await self._auth.create_account(email, password, name, is_admin=is_admin)

    async def update_user(
        self, user_id: str, changes: UserChanges, *, acting_admin: User | None = None
    ) -> UserUsage:
        """Apply `changes`. Disabling an account ends its sessions and WebSockets at once.
        An admin acting through the API may not disable or demote themselves."""
        user = await self.user(user_id)
        changes_own_role = changes.disabled or changes.is_admin is False
        if acting_admin is not None and acting_admin.id == user.id and changes_own_role:
            raise Conflict("Admins cannot disable or demote themselves", code="cannot_change_self")
        updated = replace(
            user,
            name=user.name if changes.name is None else changes.name,
            is_admin=user.is_admin if changes.is_admin is None else changes.is_admin,
            disabled=user.disabled if changes.disabled is None else changes.disabled,
            quota_bytes=(user.quota_bytes if changes.quota_bytes is KEEP else changes.quota_bytes),
        )
        await self._storage.users.update(updated)
        await self._auth.forget_user(user.id)
        if updated.disabled and not user.disabled:
            await self._auth.end_all_sessions(user.id)
        return (await self._with_usage([updated]))[0]

    async def reset_password(self, user_id: str, password: str) -> None:
        """Set a new password; the user's sessions end, so every device signs in again."""
        await self._auth.set_password(await self.user(user_id), password)

    async def _with_usage(self, users: list[User]) -> list[UserUsage]:
        used = await self._storage.files.bytes_used_by([user.id for user in users])
        return [UserUsage(user, used.get(user.id, 0)) for user in users]
