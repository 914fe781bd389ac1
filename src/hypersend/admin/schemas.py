from datetime import datetime
from typing import Self

from pydantic import BaseModel, Field, field_validator

from hypersend.admin.service import KEEP, UserChanges, UserUsage
from hypersend.auth.passwords import MIN_PASSWORD_LENGTH
from hypersend.auth.schemas import normalize_email
from hypersend.storage.models import Invite
from hypersend.users.schemas import Me


class InviteCreate(BaseModel):
    max_uses: int = Field(default=1, ge=1, le=100_000, description="How many sign-ups it allows")
    expires_in_hours: float = Field(default=72, gt=0, le=24 * 366)


class InviteOut(BaseModel):
    code: str
    created_by: str | None
    created_at: datetime
    expires_at: datetime
    max_uses: int
    uses: int

    @classmethod
    def of(cls, invite: Invite) -> Self:
        return cls.model_validate(invite, from_attributes=True)


class AdminUserOut(Me):
    disabled: bool
    quota_bytes: int | None = Field(description="Bytes; null = the server's default quota")
    bytes_used: int

    @classmethod
    def of_usage(cls, usage: UserUsage) -> Self:
        return cls(
            **Me.of(usage.user).model_dump(),
            disabled=usage.user.disabled,
            quota_bytes=usage.user.quota_bytes,
            bytes_used=usage.bytes_used,
        )


class PasswordField(BaseModel):
    password: str = Field(min_length=MIN_PASSWORD_LENGTH, max_length=1024)


class UserCreate(PasswordField):
    email: str = Field(max_length=254)
    name: str = Field(min_length=1, max_length=100)
    is_admin: bool = False

    _email = field_validator("email")(normalize_email)


class UserPatch(BaseModel):
    """Only the fields sent change; `"quota_bytes": null` returns to the server's default."""

    name: str | None = Field(default=None, min_length=1, max_length=100)
    is_admin: bool | None = None
    disabled: bool | None = None
    quota_bytes: int | None = Field(default=None, ge=0, description="0 = unlimited")

    def changes(self) -> UserChanges:
        sent_quota = "quota_bytes" in self.model_fields_set
        return UserChanges(
            name=self.name,
            is_admin=self.is_admin,
            disabled=self.disabled,
            quota_bytes=self.quota_bytes if sent_quota else KEEP,
        )
