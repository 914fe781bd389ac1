from typing import Annotated

from fastapi import APIRouter, Query

from hypersend.auth.dependencies import CurrentUser
from hypersend.services import ServicesDep
from hypersend.users.schemas import Me, UserSummary

router = APIRouter(prefix="/users", tags=["users"])

SEARCH_LIMIT = 20


@router.get("/me")
async def me(user: CurrentUser) -> Me:
    return Me.of(user)


@router.get("/search")
async def search(
    user: CurrentUser,
    services: ServicesDep,
    q: Annotated[str, Query(min_length=1, max_length=100)],
) -> list[UserSummary]:
    found = await services.storage.users.search(q.strip(), limit=SEARCH_LIMIT, exclude_id=user.id)
    return [UserSummary(id=u.id, name=u.name, email=u.email) for u in found]
