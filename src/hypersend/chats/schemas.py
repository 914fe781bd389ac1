from datetime import datetime
from typing import Literal, Self

from pydantic import BaseModel, Field

from hypersend.messages.schemas import MessageOut
from hypersend.storage.models import ChatSummary


class MemberOut(BaseModel):
    id: str
    name: str
    last_read_message_id: str | None = Field(
        description="How far this member has read: this message and all before it"
    )


class ChatOut(BaseModel):
    id: str
    type: Literal["direct", "group"]
    title: str = Field(description="A group's title; for a direct chat, the other member's name")
    members: list[MemberOut]
    last_message: MessageOut | None
    unread_count: int
    updated_at: datetime
    pinned: bool = Field(description="The caller pinned it to the top of their list")
    muted: bool = Field(description="The caller muted it: its unread count is not highlighted")

    @classmethod
    def of(cls, summary: ChatSummary, viewer_id: str) -> Self:
        chat = summary.chat
        viewer = summary.member(viewer_id)
        title = chat.title
        if chat.type == "direct":
            others = [m.name for m in summary.members if m.user_id != viewer_id]
            title = others[0] if others else chat.title
        return cls(
            id=chat.id,
            type="direct" if chat.type == "direct" else "group",
            title=title,
            members=[
                MemberOut(id=m.user_id, name=m.name, last_read_message_id=m.last_read_message_id)
                for m in summary.members
            ],
            last_message=MessageOut.of(summary.last_message, viewer_id)
            if summary.last_message
            else None,
            unread_count=summary.unread_count,
            updated_at=chat.updated_at,
            pinned=viewer is not None and viewer.pinned_at is not None,
            muted=viewer is not None and viewer.muted,
        )


class CreateChat(BaseModel):
    type: Literal["direct", "group"]
    title: str | None = Field(default=None, max_length=200)
    member_ids: list[str] = Field(min_length=1, max_length=1000)


class AddMember(BaseModel):
    user_id: str = Field(max_length=64)
