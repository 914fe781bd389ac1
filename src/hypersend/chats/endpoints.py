from fastapi import APIRouter, Response, status

from hypersend.auth.dependencies import CurrentUser
from hypersend.chats.schemas import AddMember, ChatOut, CreateChat
from hypersend.json_body import JsonRoute
from hypersend.services import ServicesDep

router = APIRouter(prefix="/chats", tags=["chats"], route_class=JsonRoute)


@router.post(
    "/",
    status_code=status.HTTP_201_CREATED,
    responses={200: {"model": ChatOut, "description": "The direct chat already existed"}},
)
async def create_chat(
    body: CreateChat, user: CurrentUser, services: ServicesDep, response: Response
) -> ChatOut:
    if body.type == "group":
        return await services.chats.create_group(user, body.title, body.member_ids)
    chat, created = await services.chats.open_direct(user, body.member_ids)
    if not created:
        response.status_code = status.HTTP_200_OK
    return chat


@router.get("/")
async def list_chats(user: CurrentUser, services: ServicesDep) -> list[ChatOut]:
    """The caller's chats: the pinned ones first, then the most recent activity first."""
    return await services.chats.list_for(user)


@router.get("/{chat_id}")
async def get_chat(chat_id: str, user: CurrentUser, services: ServicesDep) -> ChatOut:
    await services.chats.require_member(chat_id, user.id)
    return await services.chats.view(chat_id, user.id)


@router.put("/{chat_id}/pin")
async def pin_chat(chat_id: str, user: CurrentUser, services: ServicesDep) -> ChatOut:
    """Pin the chat to the top of one's own list (at most 5 pinned; again: no change)."""
    return await services.chats.pin(user, chat_id, pinned=True)


@router.delete("/{chat_id}/pin")
async def unpin_chat(chat_id: str, user: CurrentUser, services: ServicesDep) -> ChatOut:
    return await services.chats.pin(user, chat_id, pinned=False)


@router.put("/{chat_id}/mute")
async def mute_chat(chat_id: str, user: CurrentUser, services: ServicesDep) -> ChatOut:
    """Mute the chat for oneself: its unread count is shown without highlight."""
    return await services.chats.mute(user, chat_id, muted=True)


@router.delete("/{chat_id}/mute")
async def unmute_chat(chat_id: str, user: CurrentUser, services: ServicesDep) -> ChatOut:
    return await services.chats.mute(user, chat_id, muted=False)


@router.post("/{chat_id}/members")
async def add_member(
    chat_id: str, body: AddMember, user: CurrentUser, services: ServicesDep
) -> ChatOut:
    return await services.chats.add_member(user, chat_id, body.user_id)


@router.delete("/{chat_id}/members/{user_id}", status_code=status.HTTP_204_NO_CONTENT)
async def remove_member(
    chat_id: str, user_id: str, user: CurrentUser, services: ServicesDep
) -> Response:
    """Leave a group (your own id), or remove a member (the group's creator only)."""
    await services.chats.remove_member(user, chat_id, user_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
