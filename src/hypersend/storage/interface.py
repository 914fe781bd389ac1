"""The storage interface: one repository per domain, bundled as `Storage`.

Both backends (SQLite, MongoDB) implement these protocols; the contract tests in
`tests/storage` run the same assertions against each.
"""

from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from hypersend.config import Settings
from hypersend.storage.drivers import missing_driver
from hypersend.storage.models import (
    Chat,
    ChatMember,
    ChatSummary,
    ChunkReceipt,
    FileRecord,
    Invite,
    Message,
    MessagePage,
    Reactions,
    Session,
    Thumbnail,
    Transfer,
    User,
)


class UserRepository(Protocol):
    async def create(self, user: User) -> None:
        """Insert a user; raise `DuplicateError` when the email is taken."""

    async def create_first(self, user: User) -> bool:
        """Insert `user` only if there are no users yet, atomically across processes; False
        when another account exists (or won the race); `DuplicateError` as `create`."""

    async def get(self, user_id: str) -> User | None: ...

    async def get_by_email(self, email: str) -> User | None: ...

    async def search(
        self, text: str, *, limit: int, exclude_id: str, contacts_of: str | None = None
    ) -> list[User]:
        """Enabled users whose name or email contains `text` (case-insensitive), by name;
        with `contacts_of`, only those who share a chat with that user."""

    async def get_many(self, user_ids: list[str]) -> list[User]: ...

    async def count(self) -> int: ...

    async def set_password_hash(self, user_id: str, password_hash: str) -> None: ...

    async def update(self, user: User) -> None:
        """Save an existing user's name, role, status, quota, password hash and whether they
        hide their presence (not when they were last seen: `set_last_seen`)."""

    async def set_last_seen(self, user_id: str, moment: datetime) -> None: ...

    async def list_page(self, *, after: str | None, limit: int) -> list[User]:
        """Every user, by id, starting after `after` (for administration)."""


class InviteRepository(Protocol):
    async def create(self, invite: Invite) -> None: ...

    async def get(self, code: str) -> Invite | None: ...

    async def list_all(self) -> list[Invite]:
        """Every invite, newest first."""

    async def delete(self, code: str) -> bool: ...

    async def use(self, code: str, now: datetime) -> bool:
        """Count one use if the invite exists, is unexpired and has uses left (atomically)."""

    async def release(self, code: str) -> None:
        """Give back a use taken by a registration that then failed."""


class SessionRepository(Protocol):
    async def create(self, session: Session) -> None: ...

    async def get(self, session_id: str) -> Session | None: ...

    async def rotate_refresh(
        self, session_id: str, *, from_generation: int, expires_at: datetime
    ) -> bool:
        """Advance the refresh generation if it is still `from_generation` (compare-and-set)."""

    async def revoke(self, session_id: str) -> None: ...

    async def revoke_all_for_user(self, user_id: str) -> None: ...


class ChatRepository(Protocol):
    async def create(self, chat: Chat, member_ids: list[str]) -> None:
        """Insert a chat with its members; raise `DuplicateError` for a second direct chat
        between the same two users (same `direct_key`)."""

    async def get(self, chat_id: str) -> Chat | None: ...

    async def get_direct(self, direct_key: str) -> Chat | None: ...

    async def members(self, chat_id: str) -> list[ChatMember]: ...

    async def member(self, chat_id: str, user_id: str) -> ChatMember | None: ...

    async def set_pinned(self, chat_id: str, user_id: str, pinned_at: datetime | None) -> None:
        """Pin the chat to the top of this member's list (since `pinned_at`), or unpin it."""

    async def set_muted(self, chat_id: str, user_id: str, muted: bool) -> None: ...

    async def pinned_count(self, user_id: str) -> int:
        """How many chats the user has pinned."""

    async def contacts(self, user_id: str) -> list[str]:
        """Everyone who shares at least one chat with the user (not the user)."""

    async def share_a_chat(self, user_id: str, other_id: str) -> bool:
        """Whether the two users are members of at least one chat together."""

    async def add_member(self, chat_id: str, user_id: str) -> bool:
        """Add a member; False when they already were one."""

    async def remove_member(self, chat_id: str, user_id: str) -> bool:
        """Remove a member; False when they were not one."""

    async def touch(self, chat_id: str) -> None:
        """Record activity now (moves the chat to the top of its members' lists)."""

    async def list_for_user(self, user_id: str) -> list[ChatSummary]:
        """The user's chats, newest activity first, in a constant number of queries."""

    async def summary(self, chat_id: str, user_id: str) -> ChatSummary | None:
        """One chat as `list_for_user` shows it to that user; None if they are not a member."""

    async def advance_read_pointer(self, chat_id: str, user_id: str, message_id: str) -> str:
        """Move the member's read pointer forward to `message_id` (never back, by `seq`);
        return where it points."""


class MessageRepository(Protocol):
    async def create(self, message: Message) -> tuple[Message, bool]:
        """Store a message with the chat's next `seq` and bump the chat's activity; return it
        with its `seq`. Numbers are handed out in the order the writes commit, whichever
        process writes, so a reader paging forward never skips one. When the sender already
        sent one with the same `client_id`, store nothing and return (that message, False)."""

    async def get(self, message_id: str) -> Message | None: ...

    async def page_before(self, chat_id: str, before: str | None, limit: int) -> MessagePage | None:
        """The newest `limit` messages before the message `before` (all, if None), oldest
        first, in `seq` order; None when `before` is not a message of that chat."""

    async def page_after(self, chat_id: str, after: str, limit: int) -> MessagePage | None:
        """The oldest `limit` messages after the message `after`, in `seq` order; None when
        `after` is not a message of that chat."""

    async def search(
        self,
        user_id: str,
        prefixes: list[str],
        *,
        chat_id: str | None,
        before: str | None,
        limit: int,
    ) -> MessagePage | None:
        """Live messages of the user's chats (or of `chat_id` alone) with a word starting with
        each of `prefixes` (`storage.words`) in their text or their file's name, newest first,
        older than `before`, through the store's own index. None when `before` is not a
        message the user can see."""

    async def edit_text(self, message_id: str, text: str, edited_at: datetime) -> Message | None:
        """Replace a text message's text; return the message as it then is, or None when it
        is not (or no longer) a live text message."""

    async def change_reactions(
        self, message_id: str, change: Callable[[Reactions], Reactions]
    ) -> Message | None:
        """Replace a live message's reactions with `change(current)`, atomically with respect
        to every other writer (`change` may be called more than once; what it raises passes
        through and nothing is written). Returns the message as it then is; None when there
        is no live message with that id."""

    async def mark_deleted(self, message_id: str) -> None:
        """Forget the text, file and reactions of a message; it stays as a tombstone."""


class FileRepository(Protocol):
    async def create(self, record: FileRecord) -> None: ...

    async def get(self, file_id: str) -> FileRecord | None: ...

    async def chunk_digests(self, file_id: str) -> dict[int, bytes]:
        """The received chunks' SHA-256 digests by index."""

    async def chunk_count(self, file_id: str) -> int:
        """How many chunks were received (a count in the store: no digests read)."""

    async def chunk_digest(self, file_id: str, index: int) -> bytes | None:
        """One received chunk's digest (None if it is missing): one indexed lookup, so that
        receiving a chunk costs the same for the first and the 5,000th."""

    async def record_chunk(
        self, file_id: str, index: int, digest: bytes, *, expires_at: datetime
    ) -> ChunkReceipt:
        """Record a verified chunk (again is harmless) and push the upload's expiry out.
        When it is the last missing one, complete the file and set its content hash: the
        SHA-256 of the chunk digests in index order."""

    async def put_thumbnail(self, file_id: str, thumbnail: Thumbnail) -> None:
        """Keep a file's thumbnail (or that it has none: an empty `mime`) unless it has one
        already, and mark it no longer due. A file deleted meanwhile keeps nothing."""

    async def thumbnail(self, file_id: str) -> Thumbnail | None:
        """The file's thumbnail, or that it has none; None when none was made yet."""

    async def due_thumbnails(self, limit: int) -> list[FileRecord]:
        """Complete files still due a thumbnail, at most `limit` of them."""

    async def set_staged(
        self, file_id: str, index: int, length: int, *, expires_at: datetime
    ) -> None:
        """Note that the first `length` bytes of chunk `index` of an unfinished upload are kept
        (a tus upload's), and push its expiry out."""

    async def delete(self, file_id: str) -> bool: ...

    async def bytes_used(self, owner_id: str) -> int:
        """What a user's files take (complete and uploading), for quotas."""

    async def bytes_uploading(self, owner_id: str) -> int:
        """The declared sizes of a user's unfinished uploads."""

    async def bytes_used_by(self, owner_ids: list[str]) -> dict[str, int]:
        """`bytes_used` for several users in one query (users with no files are left out)."""

    async def visible_to(self, file_id: str, user_id: str) -> bool:
        """Whether the user owns the file or is in a chat it was shared in."""

    async def unfinished_expiring_before(
        self, cutoff: datetime, limit: int, *, after_id: str = ""
    ) -> list[FileRecord]:
        """Unfinished uploads whose expiry is before `cutoff`, in id order after `after_id`
        (the expired ones, or with a later cutoff the ones idle for a while)."""

    async def completed_before(
        self, cutoff: datetime, limit: int, *, after_id: str = ""
    ) -> list[FileRecord]:
        """Complete files finished before `cutoff`, in id order after `after_id`."""


class TransferRepository(Protocol):
    async def create(self, transfer: Transfer) -> None: ...

    async def get(self, transfer_id: str) -> Transfer | None: ...

    async def set_status(
        self, transfer_id: str, status: str, *, only_from: tuple[str, ...], reason: str = ""
    ) -> bool:
        """Change the status if it is one of `only_from` (compare-and-set)."""

    async def activate(
        self, transfer_id: str, *, relay_node: str, only_from: tuple[str, ...]
    ) -> bool:
        """Mark it active, relayed by the process `relay_node` (compare-and-set)."""

    async def set_progress(self, transfer_id: str, bytes_relayed: int) -> None: ...

    async def list_for_user(
        self, user_id: str, *, chat_id: str | None, open_only: bool, limit: int
    ) -> list[Transfer]:
        """The transfers the user sends or receives, newest first; `open_only` keeps
        offered and active ones; `chat_id` keeps those offered in that chat."""

    async def relay_nodes(self) -> set[str]:
        """The processes that relay active transfers."""

    async def fail_relayed_by(self, relay_nodes: list[str], reason: str) -> int:
        """Mark the active transfers those (stopped) processes relayed failed."""

    async def expire_offers(self, now: datetime) -> list[Transfer]:
        """Mark offers past their expiry expired; return them."""


class Storage(Protocol):
    users: UserRepository
    sessions: SessionRepository
    invites: InviteRepository
    chats: ChatRepository
    messages: MessageRepository
    files: FileRepository
    transfers: TransferRepository

    async def ping(self) -> None:
        """Raise if the database cannot be reached."""

    async def close(self) -> None: ...


async def open_storage(settings: Settings) -> Storage:
    """Open the backend the settings ask for: PostgreSQL when `DATABASE_URL` is set, MongoDB
    when `MONGODB_URI` is, else the embedded SQLite database under `DATA_ROOT`."""
    if settings.uses_postgresql:
        if missing := missing_driver("postgresql"):
            raise RuntimeError(f"DATABASE_URL is set but {missing}")
        from hypersend.storage.postgres import open_postgres_storage

        return await open_postgres_storage(
            settings.database_url, pool_size=settings.database_pool_size
        )
    if settings.uses_mongodb:
        if missing := missing_driver("mongodb"):
            raise RuntimeError(f"MONGODB_URI is set but {missing}")
        from hypersend.storage.mongo import open_mongo_storage

        return await open_mongo_storage(settings.mongodb_uri, settings.mongodb_database)
    from hypersend.storage.sqlite import open_sqlite_storage

    return await open_sqlite_storage(settings.database_path, durable=settings.durable_uploads)
