from typing import Annotated

from fastapi import APIRouter, Query

from hypersend.auth.dependencies import CurrentUser
from hypersend.json_body import JsonRoute
from hypersend.services import ServicesDep
from hypersend.users.schemas import ChangeMe, Me, PresenceOut, UserSummary

router = APIRouter(prefix="/users", tags=["users"], route_class=JsonRoute)


@router.get("/me")
async def me(user: CurrentUser) -> Me:
    return Me.of(user)


@router.patch("/me")
async def change_me(body: ChangeMe, user: CurrentUser, services: ServicesDep) -> Me:
    """One's own settings: `presence_hidden` hides when one is online and was last seen."""
    return Me.of(await services.presence.hide(user, body.presence_hidden))


@router.get("/{user_id}/presence")
async def presence(user_id: str, user: CurrentUser, services: ServicesDep) -> PresenceOut:
    """Whether someone one shares a chat with is online, or when they were last seen (404
    for anyone else). Changes arrive on `/ws` as `presence` events."""
    return await services.presence.of(user, user_id)


@router.get("/search")
async def search(
    user: CurrentUser,
    services: ServicesDep,
    q: Annotated[str, Query(min_length=1, max_length=100)],
) -> list[UserSummary]:
    """People to start a chat with: anyone by exact email; by name or part of an email, the
    people one shares a chat with (or everyone, as the server's `USER_DIRECTORY` says)."""
    found = await services.users.search(user, q)
    return [UserSummary(id=u.id, name=u.name, email=u.email) for u in found]
