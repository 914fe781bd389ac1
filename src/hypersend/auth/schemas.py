import re
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from hypersend.auth.passwords import MIN_PASSWORD_LENGTH

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def normalize_email(value: str) -> str:
    email = value.strip().lower()
    if not _EMAIL.match(email):
        raise ValueError("not a valid email address")
    return email


class RegisterRequest(BaseModel):
    email: str = Field(max_length=254)
    password: str = Field(min_length=MIN_PASSWORD_LENGTH, max_length=1024)
    name: str = Field(min_length=1, max_length=100)
    invite_code: str | None = Field(default=None, max_length=200)

    _email = field_validator("email")(normalize_email)

    @field_validator("name")
    @classmethod
    def _name_not_blank(cls, value: str) -> str:
        name = value.strip()
        if not name:
            raise ValueError("name must not be blank")
        return name


class LoginRequest(BaseModel):
    email: str = Field(max_length=254)
    password: str = Field(max_length=1024)

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        return value.strip().lower()


class RefreshRequest(BaseModel):
    refresh_token: str = Field(max_length=500)


class TokenPair(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 (a scheme, not a secret)
    expires_in: int = Field(description="Seconds until the access token expires")


class RegistrationPolicyOut(BaseModel):
    registration: Literal["open", "invite", "closed"]
