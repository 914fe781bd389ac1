"""What the client returns: plain dataclasses built from the server's JSON."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Self


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@dataclass(frozen=True, slots=True)
class Tokens:
    access_token: str
    refresh_token: str
    expires_in: int

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        return cls(data["access_token"], data["refresh_token"], int(data["expires_in"]))

    def to_json(self) -> dict[str, Any]:
        """What `from_json` reads back (for saving a session)."""
        return {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "expires_in": self.expires_in,
        }


@dataclass(frozen=True, slots=True)
class Presence:
    """Whether someone is online, or when they were last seen (None: hidden or never)."""

    user_id: str
    online: bool
    last_seen: datetime | None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        seen = data.get("last_seen")
        return cls(data["user_id"], bool(data["online"]), parse_time(seen) if seen else None)


@dataclass(frozen=True, slots=True)
class UserInfo:
    id: str
    email: str
    name: str
    created_at: datetime | None = None
    is_admin: bool = False
    presence_hidden: bool = False  # known for oneself only

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        created = data.get("created_at")
        return cls(
            id=data["id"],
            email=data.get("email", ""),
            name=data["name"],
            created_at=parse_time(created) if created else None,
            is_admin=bool(data.get("is_admin", False)),
            presence_hidden=bool(data.get("presence_hidden", False)),
        )


@dataclass(frozen=True, slots=True)
class Attachment:
    id: str
    filename: str
    size: int
    mime: str
    has_thumbnail: bool = False


@dataclass(frozen=True, slots=True)
class Reply:
    """The message a reply answers: who sent it and its first line (None once deleted)."""

    id: str
    sender_id: str
    preview: str | None


@dataclass(frozen=True, slots=True)
class Reaction:
    """One emoji on a message: how many, whether one of them is the caller's, and who."""

    emoji: str
    count: int
    mine: bool
    user_ids: tuple[str, ...]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        return cls(data["emoji"], data["count"], data["mine"], tuple(data["user_ids"]))


@dataclass(frozen=True, slots=True)
class Message:
    id: str
    chat_id: str
    sender_id: str
    kind: str
    text: str | None
    file: Attachment | None
    created_at: datetime
    deleted: bool
    client_id: str | None = None
    edited_at: datetime | None = None
    reply_to: Reply | None = None
    reactions: tuple[Reaction, ...] = ()

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        file = data.get("file")
        return cls(
            id=data["id"],
            chat_id=data["chat_id"],
            sender_id=data["sender_id"],
            kind=data["kind"],
            text=data.get("text"),
            file=Attachment(
                file["id"],
                file["filename"],
                file["size"],
                file["mime"],
                file.get("has_thumbnail", False),
            )
            if file
            else None,
            created_at=parse_time(data["created_at"]),
            deleted=bool(data["deleted"]),
            client_id=data.get("client_id"),
            edited_at=parse_time(data["edited_at"]) if data.get("edited_at") else None,
            reply_to=Reply(**data["reply_to"]) if data.get("reply_to") else None,
            reactions=tuple(Reaction.from_json(r) for r in data.get("reactions", ())),
        )


@dataclass(frozen=True, slots=True)
class Member:
    id: str
    name: str
    last_read_message_id: str | None


@dataclass(frozen=True, slots=True)
class Chat:
    id: str
    type: str
    title: str
    members: list[Member]
    last_message: Message | None
    unread_count: int
    updated_at: datetime
    pinned: bool = False
    muted: bool = False

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        last = data.get("last_message")
        return cls(
            id=data["id"],
            type=data["type"],
            title=data["title"],
            members=[
                Member(m["id"], m["name"], m.get("last_read_message_id")) for m in data["members"]
            ],
            last_message=Message.from_json(last) if last else None,
            unread_count=int(data["unread_count"]),
            updated_at=parse_time(data["updated_at"]),
            pinned=bool(data.get("pinned", False)),
            muted=bool(data.get("muted", False)),
        )


@dataclass(frozen=True, slots=True)
class MessagePage:
    messages: list[Message]
    has_more: bool

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        return cls([Message.from_json(m) for m in data["messages"]], bool(data["has_more"]))


@dataclass(frozen=True, slots=True)
class Found:
    """A message a search found, and where its matching words are: (start, end) offsets into
    its text, or into its file's name."""

    message: Message
    highlights: tuple[tuple[int, int], ...]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        return cls(Message.from_json(data), tuple((s, e) for s, e in data["highlights"]))


@dataclass(frozen=True, slots=True)
class SearchPage:
    found: list[Found]  # newest first
    has_more: bool

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        return cls([Found.from_json(m) for m in data["messages"]], bool(data["has_more"]))
