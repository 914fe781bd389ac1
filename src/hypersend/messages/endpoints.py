from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from hypersend.auth.dependencies import CurrentUser
from hypersend.json_body import JsonRoute
from hypersend.messages.schemas import (
    EditMessage,
    ForwardMessage,
    MessageOut,
    MessagePageOut,
    ReadPointer,
    SearchPageOut,
    SendMessage,
)
from hypersend.services import ServicesDep

router = APIRouter(tags=["messages"], route_class=JsonRoute)

PAGE_DEFAULT = 50
PAGE_MAX = 100
SEARCH_MAX_CHARS = 200


@router.post(
    "/messages/",
    status_code=status.HTTP_201_CREATED,
    responses={200: {"model": MessageOut, "description": "A retry: the first message again"}},
)
async def send_message(
    body: SendMessage, user: CurrentUser, services: ServicesDep, response: Response
) -> MessageOut:
    message, created = await services.messages.send(
        user,
        body.chat_id,
        text=body.text,
        file_id=body.file_id,
        client_id=body.client_id,
        reply_to=body.reply_to,
    )
    if not created:
        response.status_code = status.HTTP_200_OK
    return message


@router.get("/chats/{chat_id}/messages")
async def list_messages(
    chat_id: str,
    user: CurrentUser,
    services: ServicesDep,
    before: Annotated[str | None, Query(max_length=64)] = None,
    after: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=PAGE_MAX)] = PAGE_DEFAULT,
) -> MessagePageOut:
    """`before`: the newest page older than it. `after`: the oldest page newer than it."""
    return await services.messages.page(user, chat_id, before=before, after=after, limit=limit)


@router.get("/messages/search")
async def search_messages(
    q: Annotated[str, Query(min_length=1, max_length=SEARCH_MAX_CHARS)],
    user: CurrentUser,
    services: ServicesDep,
    chat_id: Annotated[str | None, Query(max_length=64)] = None,
    before: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=PAGE_MAX)] = PAGE_DEFAULT,
) -> SearchPageOut:
    """Messages of the caller's chats (or of `chat_id`) with a word starting with each word of
    `q`, in their text or their file's name, newest first; `before`: the page older than that
    message. Any text may be asked: only its words count."""
    return await services.messages.search(user, q, chat_id=chat_id, before=before, limit=limit)


@router.patch("/messages/{message_id}/read")
async def mark_read(message_id: str, user: CurrentUser, services: ServicesDep) -> ReadPointer:
    """Mark this message and everything before it in its chat as read."""
    return await services.messages.mark_read(user, message_id)


@router.patch("/messages/{message_id}")
async def edit_message(
    message_id: str, body: EditMessage, user: CurrentUser, services: ServicesDep
) -> MessageOut:
    """Change the text of one's own text message (within `MESSAGE_EDIT_HOURS` of sending it);
    every member's devices get `message.updated`."""
    return await services.messages.edit(user, message_id, body.text)


@router.put("/messages/{message_id}/reactions/{emoji}")
async def add_reaction(
    message_id: str,
    emoji: Annotated[str, Path(max_length=64)],
    user: CurrentUser,
    services: ServicesDep,
) -> MessageOut:
    """React to a message of one of one's chats with one emoji (again: no change). Every
    member's devices get `message.updated`."""
    return await services.messages.react(user, message_id, emoji, add=True)


@router.delete("/messages/{message_id}/reactions/{emoji}")
async def remove_reaction(
    message_id: str,
    emoji: Annotated[str, Path(max_length=64)],
    user: CurrentUser,
    services: ServicesDep,
) -> MessageOut:
    """Take one's reaction away (none there: no change)."""
    return await services.messages.react(user, message_id, emoji, add=False)


@router.post("/messages/{message_id}/forward", status_code=status.HTTP_201_CREATED)
async def forward_message(
    message_id: str, body: ForwardMessage, user: CurrentUser, services: ServicesDep
) -> MessageOut:
    """Post this message again, as the caller, into another of their chats; a file goes by
    reference (not copied, not uploaded again)."""
    return await services.messages.forward(user, message_id, body.chat_id)


@router.delete("/messages/{message_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_message(message_id: str, user: CurrentUser, services: ServicesDep) -> Response:
    await services.messages.delete(user, message_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
