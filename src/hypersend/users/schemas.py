from datetime import datetime
from typing import Self

from pydantic import BaseModel

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

    @classmethod
    def of(cls, user: User) -> Self:
        return cls(
            id=user.id,
            email=user.email,
            name=user.name,
            created_at=user.created_at,
            is_admin=user.is_admin,
        )


class UserSummary(BaseModel):
    id: str
    name: str
    email: str
