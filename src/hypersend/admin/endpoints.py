from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from hypersend.admin.dependencies import AdminServiceDep, AdminUser
from hypersend.admin.schemas import (
    AdminUserOut,
    InviteCreate,
    InviteOut,
    PasswordField,
    UserCreate,
    UserPatch,
)
from hypersend.json_body import JsonRoute
from hypersend.users.schemas import UserOut

router = APIRouter(prefix="/admin", tags=["admin"], route_class=JsonRoute)


@router.post("/invites", status_code=status.HTTP_201_CREATED)
async def create_invite(
    body: InviteCreate, admin: AdminUser, service: AdminServiceDep
) -> InviteOut:
    invite = await service.create_invite(
        admin, max_uses=body.max_uses, lifetime=timedelta(hours=body.expires_in_hours)
    )
    return InviteOut.of(invite)


@router.get("/invites")
async def list_invites(admin: AdminUser, service: AdminServiceDep) -> list[InviteOut]:
    return [InviteOut.of(invite) for invite in await service.invites()]


@router.delete("/invites/{code}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_invite(code: str, admin: AdminUser, service: AdminServiceDep) -> Response:
    await service.delete_invite(code)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/users")
async def list_users(
    admin: AdminUser,
    service: AdminServiceDep,
    after: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    email: Annotated[str | None, Query(max_length=254)] = None,
) -> list[AdminUserOut]:
    """Accounts by id with the storage each one uses; `email` looks up one account."""
    if email is not None:
        return [AdminUserOut.of_usage(await service.user_by_email(email.strip().lower()))]
    return [AdminUserOut.of_usage(usage) for usage in await service.users(after=after, limit=limit)]


@router.post("/users", status_code=status.HTTP_201_CREATED)
async def create_user(body: UserCreate, admin: AdminUser, service: AdminServiceDep) -> UserOut:
    user = await service.create_user(body.email, body.password, body.name, is_admin=body.is_admin)
    return UserOut.of(user)


@router.patch("/users/{user_id}")
async def update_user(
    user_id: str, body: UserPatch, admin: AdminUser, service: AdminServiceDep
) -> AdminUserOut:
    """Rename, promote or demote, disable (ending every session at once) or re-enable an
    account, or set its quota."""
    updated = await service.update_user(user_id, body.changes(), acting_admin=admin)
    return AdminUserOut.of_usage(updated)


@router.put("/users/{user_id}/password", status_code=status.HTTP_204_NO_CONTENT)
async def reset_password(
    user_id: str, body: PasswordField, admin: AdminUser, service: AdminServiceDep
) -> Response:
    """Set a new password; the user's sessions end."""
    await service.reset_password(user_id, body.password)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
