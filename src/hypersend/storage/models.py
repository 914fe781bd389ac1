"""The records that the storage backends keep, as plain immutable values."""

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class User:
    id: str
    email: str
    name: str
    password_hash: str
    created_at: datetime
    is_admin: bool = False
    disabled: bool = False
    quota_bytes: int | None = None
    presence_hidden: bool = False  # others see neither when they are online nor last seen
    last_seen_at: datetime | None = None  # when their last live connection closed


@dataclass(frozen=True, slots=True)
class Invite:
    """A code that lets `max_uses` people register until `expires_at`."""

    code: str
    created_by: str | None  # None: made at the server's console (`hypersend admin --local`)
    created_at: datetime
    expires_at: datetime
    max_uses: int
    uses: int = 0


@dataclass(frozen=True, slots=True)
class Session:
    """One signed-in device. Its refresh token rotates; revoking it kills both tokens."""

    id: str
    user_id: str
    created_at: datetime
    expires_at: datetime
    refresh_generation: int = 0
    revoked: bool = False
    client_address: str = ""
    user_agent: str = ""


@dataclass(frozen=True, slots=True)
class Chat:
    id: str
    type: str  # "direct" | "group"
    title: str
    created_by: str
    created_at: datetime
    updated_at: datetime
    direct_key: str | None = None


@dataclass(frozen=True, slots=True)
class ChatMember:
    chat_id: str
    user_id: str
    name: str
    joined_at: datetime
    last_read_message_id: str | None = None
    last_read_seq: int = 0  # the `seq` of that message (0: nothing read)
    pinned_at: datetime | None = None  # this member pinned the chat to the top of their list
    muted: bool = False  # this member's unread count is shown without highlight


@dataclass(frozen=True, slots=True)
class FileRef:
    """What a message shows of its file."""

    id: str
    filename: str
    size: int
    mime: str
    has_thumbnail: bool = False


@dataclass(frozen=True, slots=True)
class Thumbnail:
    """A file's preview; `mime` empty (and no bytes) when the file was tried and has none."""

    mime: str
    data: bytes


@dataclass(frozen=True, slots=True)
class Quote:
    """The message a reply answers, as the reply shows it (read with the reply)."""

    message_id: str
    sender_id: str
    text: str | None  # None for a file, and once that message is deleted
    file_name: str | None
    deleted: bool

    @classmethod
    def of(cls, message: "Message") -> "Quote":
        return cls(
            message_id=message.id,
            sender_id=message.sender_id,
            text=message.text,
            file_name=message.file.filename if message.file else None,
            deleted=message.deleted,
        )


@dataclass(frozen=True, slots=True)
class Reaction:
    """One emoji on a message and who put it there, first to last."""

    emoji: str
    user_ids: tuple[str, ...]


Reactions = tuple[Reaction, ...]
"""A message's reactions, in the order their emoji first appeared."""


@dataclass(frozen=True, slots=True)
class Message:
    id: str
    chat_id: str
    sender_id: str
    kind: str  # "text" | "file"
    text: str | None
    file: FileRef | None
    created_at: datetime
    deleted: bool = False
    client_id: str | None = None
    seq: int = 0  # its place in the chat (1, 2, ...), given by the store when it is written
    edited_at: datetime | None = None
    reply_to_id: str | None = None  # the message of the same chat that this one answers
    quote: Quote | None = None  # that message as it is now (filled when read)
    reactions: Reactions = ()


@dataclass(frozen=True, slots=True)
class ChatSummary:
    """One row of a user's chat list, built without a query per chat."""

    chat: Chat
    members: list[ChatMember]
    last_message: Message | None
    unread_count: int

    def member(self, user_id: str) -> ChatMember | None:
        return next((m for m in self.members if m.user_id == user_id), None)

    def pinned_at(self, user_id: str) -> datetime | None:
        """When `user_id` pinned this chat (None: not pinned)."""
        member = self.member(user_id)
        return member.pinned_at if member else None


@dataclass(frozen=True, slots=True)
class MessagePage:
    messages: list[Message]  # oldest first (search results: newest first)
    has_more: bool


@dataclass(frozen=True, slots=True)
class FileRecord:
    id: str
    owner_id: str
    chat_id: str | None
    filename: str
    size: int
    mime: str
    chunk_size: int
    total_chunks: int
    status: str  # "uploading" | "complete"
    created_at: datetime
    expires_at: datetime | None
    content_hash: str | None = None
    completed_at: datetime | None = None
    store_upload_id: str | None = None  # the file store's id of the upload (S3 multipart)
    # A tus upload (`files/tus/`): its Upload-Metadata as the client sent it (None: an upload
    # of the chunk API), and the first bytes of its next chunk, kept before the chunk is whole.
    tus_metadata: str | None = None
    staged_chunk: int = 0
    staged_bytes: int = 0
    thumbnail_due: bool = False  # an image whose thumbnail is yet to be made (or tried)

    def chunk_length(self, index: int) -> int:
        """Every chunk is `chunk_size` bytes except the last."""
        if index == self.total_chunks - 1:
            return self.size - self.chunk_size * (self.total_chunks - 1)
        return self.chunk_size

    @property
    def ref(self) -> FileRef:
        return FileRef(self.id, self.filename, self.size, self.mime)


@dataclass(frozen=True, slots=True)
class ChunkReceipt:
    received_chunks: int
    complete: bool


@dataclass(frozen=True, slots=True)
class Transfer:
    """A P2P transfer's metadata; its bytes never touch the server's disk."""

    id: str
    sender_id: str
    receiver_id: str
    chat_id: str | None
    filename: str
    size: int
    status: str  # offered | active | completed | failed | cancelled | expired
    created_at: datetime
    expires_at: datetime
    bytes_relayed: int = 0
    reason: str = ""
    relay_node: str | None = None  # the server process relaying it, while active
