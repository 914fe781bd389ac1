"""What the client returns: plain dataclasses built from the server's JSON."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Self


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@dataclass(frozen=True, slots=True)
class Tokens:
    access_token: str
    refresh_token: str
    expires_in: int

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        return cls(data["access_token"], data["refresh_token"], int(data["expires_in"]))


@dataclass(frozen=True, slots=True)
class UserInfo:
    id: str
    email: str
    name: str
    created_at: datetime | None = None
    is_admin: bool = False

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        created = data.get("created_at")
        return cls(
            id=data["id"],
            email=data.get("email", ""),
            name=data["name"],
            created_at=parse_time(created) if created else None,
            is_admin=bool(data.get("is_admin", False)),
        )
