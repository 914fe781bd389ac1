from datetime import datetime
from typing import Self

from pydantic import BaseModel, Field

from hypersend.storage.models import User


class UserOut(BaseModel):
    id: str
    email: str
    name: str
    created_at: datetime

    @classmethod
    def of(cls, user: User) -> Self:
        return cls(id=user.id, email=user.email, name=user.name, created_at=user.created_at)


class Me(UserOut):
    is_admin: bool
    presence_hidden: bool = Field(description="Others see neither online nor last seen")

    @classmethod
    def of(cls, user: User) -> Self:
        return cls(
            id=user.id,
            email=user.email,
            name=user.name,
            created_at=user.created_at,
            is_admin=user.is_admin,
            presence_hidden=user.presence_hidden,
        )


class ChangeMe(BaseModel):
    presence_hidden: bool = Field(
        strict=True, description="Hide when one is online and was last seen"
    )


class PresenceOut(BaseModel):
    user_id: str
    online: bool
    last_seen: datetime | None = Field(description="When their last connection closed")


class UserSummary(BaseModel):
    id: str
    name: str
    email: str
