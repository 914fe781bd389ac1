from datetime import datetime
from typing import Literal, Self

from pydantic import BaseModel, Field

from hypersend.storage.models import Message


class FileOut(BaseModel):
    id: str
    filename: str
    size: int
    mime: str


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
    client_id: str | None = Field(
        description="The sender's own id for it, so their devices can match it to what they sent"
    )

    @classmethod
    def of(cls, message: Message) -> Self:
        file = message.file
        return cls(
            id=message.id,
            chat_id=message.chat_id,
            sender_id=message.sender_id,
            kind="file" if message.kind == "file" else "text",
            text=None if message.deleted else message.text,
            file=(
                FileOut(id=file.id, filename=file.filename, size=file.size, mime=file.mime)
                if file and not message.deleted
                else None
            ),
            created_at=message.created_at,
            deleted=message.deleted,
            edited_at=message.edited_at,
            client_id=message.client_id,
        )


class SendMessage(BaseModel):
    chat_id: str = Field(max_length=64)
    text: str | None = None
    file_id: str | None = Field(default=None, max_length=64)
    client_id: str | None = Field(default=None, min_length=1, max_length=100)


class EditMessage(BaseModel):
    text: str


class MessagePageOut(BaseModel):
    messages: list[MessageOut]
    has_more: bool


class ReadPointer(BaseModel):
    chat_id: str
    last_read_message_id: str
