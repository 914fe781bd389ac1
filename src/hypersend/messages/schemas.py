from datetime import datetime
from typing import Literal, Self

from pydantic import BaseModel, Field

from hypersend.storage.models import Message, Quote, Reaction

PREVIEW_CHARS = 100


class FileOut(BaseModel):
    id: str
    filename: str
    size: int
    mime: str
    has_thumbnail: bool = Field(description="GET /files/{id}/thumbnail has a preview")


class ReplyOut(BaseModel):
    """The message a reply answers, as the reply shows it."""

    id: str
    sender_id: str
    preview: str | None = Field(
        description="Its text's first line, or its file's name; null once it is deleted"
    )

    @classmethod
    def of(cls, quote: Quote) -> Self:
        if quote.deleted:
            preview = None
        elif quote.file_name is not None:
            preview = quote.file_name
        else:
            preview = (quote.text or "").strip().split("\n", 1)[0][:PREVIEW_CHARS]
        return cls(id=quote.message_id, sender_id=quote.sender_id, preview=preview)


class ReactionOut(BaseModel):
    emoji: str
    count: int
    mine: bool = Field(description="Whether the caller is among those who reacted so")
    user_ids: list[str] = Field(description="Who reacted so, first to last")

    @classmethod
    def of(cls, reaction: Reaction, viewer_id: str) -> Self:
        return cls(
            emoji=reaction.emoji,
            count=len(reaction.user_ids),
            mine=viewer_id in reaction.user_ids,
            user_ids=list(reaction.user_ids),
        )


class MessageOut(BaseModel):
    id: str
    chat_id: str
    sender_id: str
    kind: Literal["text", "file"]
    text: str | None
    file: FileOut | None
    created_at: datetime
    deleted: bool
    edited_at: datetime | None = Field(description="When the sender last changed its text")
    reply_to: ReplyOut | None = Field(description="The message of the chat this one answers")
    client_id: str | None = Field(
        description="The sender's own id for it, so their devices can match it to what they sent"
    )
    reactions: list[ReactionOut] = Field(description="In the order their emoji first appeared")

    @classmethod
    def of(cls, message: Message, viewer_id: str) -> Self:
        """The message as `viewer_id` sees it (`mine` in its reactions is theirs)."""
        file = message.file
        return cls(
            id=message.id,
            chat_id=message.chat_id,
            sender_id=message.sender_id,
            kind="file" if message.kind == "file" else "text",
            text=None if message.deleted else message.text,
            file=(
                FileOut(
                    id=file.id,
                    filename=file.filename,
                    size=file.size,
                    mime=file.mime,
                    has_thumbnail=file.has_thumbnail,
                )
                if file and not message.deleted
                else None
            ),
            created_at=message.created_at,
            deleted=message.deleted,
            edited_at=message.edited_at,
            reply_to=ReplyOut.of(message.quote) if message.quote else None,
            client_id=message.client_id,
            reactions=[ReactionOut.of(r, viewer_id) for r in message.reactions],
        )


class SendMessage(BaseModel):
    chat_id: str = Field(max_length=64)
    text: str | None = None
    file_id: str | None = Field(default=None, max_length=64)
    client_id: str | None = Field(default=None, min_length=1, max_length=100)
    reply_to: str | None = Field(
        default=None, max_length=64, description="A message of the same chat this one answers"
    )


class EditMessage(BaseModel):
    text: str


class ForwardMessage(BaseModel):
    chat_id: str = Field(max_length=64, description="One of the caller's chats")


class MessagePageOut(BaseModel):
    messages: list[MessageOut]
    has_more: bool


class FoundMessageOut(MessageOut):
    highlights: list[tuple[int, int]] = Field(
        description="Where the words that match are: [start, end) character offsets into "
        "`text`, or into the file's `filename` for a file message"
    )


class SearchPageOut(BaseModel):
    messages: list[FoundMessageOut] = Field(description="Newest first")
    has_more: bool


class ReadPointer(BaseModel):
    chat_id: str
    last_read_message_id: str
