"""The records that the storage backends keep, as plain immutable values."""

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class User:
    id: str
    email: str
    name: str
    password_hash: str
    created_at: datetime
    is_admin: bool = False
    disabled: bool = False
    quota_bytes: int | None = None


@dataclass(frozen=True, slots=True)
class Session:
    """One signed-in device. Its refresh token rotates; revoking it kills both tokens."""

    id: str
    user_id: str
    created_at: datetime
    expires_at: datetime
    refresh_generation: int = 0
    revoked: bool = False
    client_address: str = ""
    user_agent: str = ""
