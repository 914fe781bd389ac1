"""The admin API (`/admin`): invites and accounts. Every call needs an admin's session."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Self

from hypersend.client.http import ApiSession
from hypersend.client.models import parse_time


@dataclass(frozen=True, slots=True)
class InviteInfo:
    code: str
    created_by: str | None
    created_at: datetime
    expires_at: datetime
    max_uses: int
    uses: int

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        return cls(
            code=data["code"],
            created_by=data["created_by"],
            created_at=parse_time(data["created_at"]),
            expires_at=parse_time(data["expires_at"]),
            max_uses=int(data["max_uses"]),
            uses=int(data["uses"]),
        )


@dataclass(frozen=True, slots=True)
class AccountInfo:
    """An account as admins see it, with the storage its files take."""

    id: str
    email: str
    name: str
    created_at: datetime
    is_admin: bool
    disabled: bool
    quota_bytes: int | None
    bytes_used: int

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        return cls(
            id=data["id"],
            email=data["email"],
            name=data["name"],
            created_at=parse_time(data["created_at"]),
            is_admin=bool(data["is_admin"]),
            disabled=bool(data["disabled"]),
            quota_bytes=data["quota_bytes"],
            bytes_used=int(data["bytes_used"]),
        )


class AdminApi:
    def __init__(self, api: ApiSession) -> None:
        self._api = api

    async def create_invite(self, *, max_uses: int = 1, expires_in_hours: float = 72) -> InviteInfo:
        body = {"max_uses": max_uses, "expires_in_hours": expires_in_hours}
        return InviteInfo.from_json(await self._api.json("POST", "/admin/invites", json=body))

    async def invites(self) -> list[InviteInfo]:
        return [
            InviteInfo.from_json(item) for item in await self._api.json("GET", "/admin/invites")
        ]

    async def delete_invite(self, code: str) -> None:
        await self._api.request("DELETE", f"/admin/invites/{code}")

    async def users(self) -> list[AccountInfo]:
        """Every account, fetched page by page."""
        accounts: list[AccountInfo] = []
        while True:
            params: dict[str, Any] = {"limit": 500}
            if accounts:
                params["after"] = accounts[-1].id
            page = await self._api.json("GET", "/admin/users", params=params)
            accounts.extend(AccountInfo.from_json(item) for item in page)
            if len(page) < params["limit"]:
                return accounts

    async def user_by_email(self, email: str) -> AccountInfo:
        data = await self._api.json("GET", "/admin/users", params={"email": email})
        return AccountInfo.from_json(data[0])

    async def create_user(
        self, email: str, password: str, name: str, *, is_admin: bool = False
    ) -> str:
        """Create an account; returns its id."""
        body = {"email": email, "password": password, "name": name, "is_admin": is_admin}
        return str((await self._api.json("POST", "/admin/users", json=body))["id"])

    async def update_user(self, user_id: str, **changes: Any) -> AccountInfo:
        """Change `name`, `is_admin`, `disabled` or `quota_bytes` (None: server default)."""
        data = await self._api.json("PATCH", f"/admin/users/{user_id}", json=changes)
        return AccountInfo.from_json(data)

    async def reset_password(self, user_id: str, password: str) -> None:
        await self._api.request(
            "PUT", f"/admin/users/{user_id}/password", json={"password": password}
        )
