"""`AdminService` on the local data folder (no server between), shaped like the client's admin
API, for `hypersend admin` when it acts locally (`--local`, or signed out).

Errors come out as the client's typed errors, so the CLI reports them the same way in
both modes. Run it while the server is stopped: a running server's open WebSockets do not
hear about changes made here (its sessions do stop working at their next request).
"""

from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any, TypeVar

from pydantic import ValidationError

from hypersend.admin.schemas import (
    AdminUserOut,
    InviteCreate,
    InviteOut,
    PasswordField,
    UserCreate,
    UserPatch,
)
from hypersend.admin.service import AdminService, UserUsage
from hypersend.client import errors as client_errors
from hypersend.client.admin import AccountInfo, InviteInfo
from hypersend.config import Settings
from hypersend.error_responses import describe_problems
from hypersend.errors import ApiError
from hypersend.services import build_services
from hypersend.storage import open_storage
from hypersend.storage.models import Invite

T = TypeVar("T")


def _account(usage: UserUsage) -> AccountInfo:
    """The account as the API would have sent it."""
    return AccountInfo.from_json(AdminUserOut.of_usage(usage).model_dump(mode="json"))


def _invite(invite: Invite) -> InviteInfo:
    return InviteInfo.from_json(InviteOut.of(invite).model_dump(mode="json"))


async def _translated(call: Awaitable[T]) -> T:
    """Run a service call, turning server errors into the client's typed errors."""
    try:
        return await call
    except ApiError as exc:
        body = {"detail": exc.detail, "code": exc.code}
        raise client_errors.error_for(exc.status, body, {}) from exc


def _validated(model: type[Any], **fields: Any) -> Any:
    try:
        return model(**fields)
    except ValidationError as exc:
        problems = describe_problems(exc.errors())
        raise client_errors.InvalidInput(422, "validation_error", problems) from exc


class LocalAdmin:
    def __init__(self, service: AdminService) -> None:
        self._service = service

    async def invites(self) -> list[InviteInfo]:
        return [_invite(invite) for invite in await self._service.invites()]

    async def create_invite(self, *, max_uses: int, expires_in_hours: float) -> InviteInfo:
        body = _validated(InviteCreate, max_uses=max_uses, expires_in_hours=expires_in_hours)
        invite = await self._service.create_invite(
            None, max_uses=body.max_uses, lifetime=timedelta(hours=body.expires_in_hours)
        )
        return _invite(invite)

    async def delete_invite(self, code: str) -> None:
        await _translated(self._service.delete_invite(code))

    async def users(self) -> list[AccountInfo]:
        accounts: list[AccountInfo] = []
        while page := await self._service.users(
            after=accounts[-1].id if accounts else None, limit=500
        ):
            accounts.extend(_account(usage) for usage in page)
        return accounts

    async def user_by_email(self, email: str) -> AccountInfo:
        return _account(await _translated(self._service.user_by_email(email.strip().lower())))

    async def create_user(self, email: str, password: str, name: str, *, is_admin: bool) -> str:
        body = _validated(UserCreate, email=email, password=password, name=name)
        user = await _translated(
            self._service.create_user(body.email, body.password, body.name, is_admin=is_admin)
        )
        return user.id

    async def update_user(self, user_id: str, **changes: Any) -> AccountInfo:
        body = _validated(UserPatch, **changes)
        return _account(await _translated(self._service.update_user(user_id, body.changes())))

    async def reset_password(self, user_id: str, password: str) -> None:
        body = _validated(PasswordField, password=password)
        await _translated(self._service.reset_password(user_id, body.password))


@asynccontextmanager
async def open_local_admin(settings: Settings) -> AsyncIterator[LocalAdmin]:
    storage = await open_storage(settings)
    try:
        services = build_services(settings, storage)
        try:
            yield LocalAdmin(services.admin)
        finally:
            await services.files.store.close()
    finally:
        await storage.close()
