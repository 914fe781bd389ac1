"""Sending, reading, paging, editing and deleting messages, and telling every member's
devices."""

from datetime import timedelta
from typing import Protocol

from hypersend.chats.service import ChatService
from hypersend.clock import utcnow
from hypersend.errors import Forbidden, NotFound, Unprocessable
from hypersend.ids import new_id
from hypersend.messages.reactions import check_emoji, with_reaction, without_reaction
from hypersend.messages.schemas import (
    FoundMessageOut,
    MessageOut,
    MessagePageOut,
    ReadPointer,
    SearchPageOut,
)
from hypersend.realtime.bus import EventBus
from hypersend.storage import Storage
from hypersend.storage.models import FileRef, Message, Quote, User
from hypersend.storage.words import matching_spans, words

MAX_SEARCH_WORDS = 8
"""Words of a query that count (the rest are left out)."""


class ShareableFiles(Protocol):
    async def shareable(self, user: User, file_id: str) -> FileRef:
        """The file, if the user may post it: complete, and theirs or visible to them."""


class MessageService:
    def __init__(
        self,
        storage: Storage,
        bus: EventBus,
        chats: ChatService,
        files: ShareableFiles,
        *,
        max_chars: int,
        edit_window: timedelta,
    ) -> None:
        self._storage = storage
        self._bus = bus
        self._chats = chats
        self._files = files
        self._max_chars = max_chars
        self._edit_window = edit_window

    async def send(
        self,
        user: User,
        chat_id: str,
        *,
        text: str | None,
        file_id: str | None,
        client_id: str | None,
        reply_to: str | None = None,
    ) -> tuple[MessageOut, bool]:
        """Post a message (answering `reply_to`, a message of the same chat); with a known
        `client_id`, return the first one (False: not new)."""
        await self._chats.require_member(chat_id, user.id)
        quote = None
        if reply_to is not None:
            replied = await self._storage.messages.get(reply_to)
            if replied is None or replied.chat_id != chat_id:
                raise Unprocessable("reply_to must be a message of this chat")
            quote = Quote.of(replied)
        if (text is None) == (file_id is None):
            raise Unprocessable("Send exactly one of text or file_id")
        file = None
        if text is not None:
            self._check_text(text)
        else:
            assert file_id is not None
            file = await self._files.shareable(user, file_id)
        message = Message(
            id=new_id(),
            chat_id=chat_id,
            sender_id=user.id,
            kind="text" if file is None else "file",
            text=text,
            file=file,
            created_at=utcnow(),
            client_id=client_id,
            reply_to_id=reply_to,
            quote=quote,
        )
        stored, created = await self._post(message)
        return MessageOut.of(stored, user.id), created

    async def forward(self, user: User, message_id: str, chat_id: str) -> MessageOut:
        """Post a copy of a message into another chat of the user's: the same text, or the
        same file by reference (its bytes are neither copied nor sent again; whoever is in
        either chat may download it)."""
        original = await self._visible_message(user, message_id)
        if original.deleted:
            raise Unprocessable("A deleted message cannot be forwarded", code="message_deleted")
        if original.kind == "file" and original.file is None:
            raise Unprocessable("That message's file is gone", code="file_gone")
        await self._chats.require_member(chat_id, user.id)
        message = Message(
            id=new_id(),
            chat_id=chat_id,
            sender_id=user.id,
            kind=original.kind,
            text=original.text,
            file=original.file,
            created_at=utcnow(),
        )
        stored, _ = await self._post(message)
        return MessageOut.of(stored, user.id)

    async def page(
        self, user: User, chat_id: str, *, before: str | None, after: str | None, limit: int
    ) -> MessagePageOut:
        await self._chats.require_member(chat_id, user.id)
        if before is not None and after is not None:
            raise Unprocessable("Use either before or after, not both")
        if after is not None:
            page = await self._storage.messages.page_after(chat_id, after, limit)
        else:
            page = await self._storage.messages.page_before(chat_id, before, limit)
        if page is None:
            raise NotFound("The message to page from is not in this chat")
        return MessagePageOut(
            messages=[MessageOut.of(m, user.id) for m in page.messages], has_more=page.has_more
        )

    async def search(
        self, user: User, query: str, *, chat_id: str | None, before: str | None, limit: int
    ) -> SearchPageOut:
        """Messages of the user's chats (or of `chat_id`) with a word starting with each word
        of `query` (any text: only its words count), newest first."""
        prefixes = words(query)[:MAX_SEARCH_WORDS]
        if not prefixes:
            raise Unprocessable("Search for at least one word (letters or digits)")
        if chat_id is not None:
            await self._chats.require_member(chat_id, user.id)
        page = await self._storage.messages.search(
            user.id, prefixes, chat_id=chat_id, before=before, limit=limit
        )
        if page is None:
            raise NotFound("The message to page from is not in your chats")
        return SearchPageOut(
            messages=[_found(m, user.id, prefixes) for m in page.messages],
            has_more=page.has_more,
        )

    async def mark_read(self, user: User, message_id: str) -> ReadPointer:
        message = await self._visible_message(user, message_id)
        pointer = await self._storage.chats.advance_read_pointer(
            message.chat_id, user.id, message.id
        )
        result = ReadPointer(chat_id=message.chat_id, last_read_message_id=pointer)
        await self._bus.publish(
            await self._chats.member_ids(message.chat_id),
            {"type": "message.read", "user_id": user.id, **result.model_dump()},
        )
        return result

    async def delete(self, user: User, message_id: str) -> None:
        message = await self._visible_message(user, message_id)
        if message.sender_id != user.id:
            raise Forbidden("Only the sender may delete a message")
        if message.deleted:
            return
        await self._storage.messages.mark_deleted(message.id)
        await self._bus.publish(
            await self._chats.member_ids(message.chat_id),
            {"type": "message.deleted", "chat_id": message.chat_id, "message_id": message.id},
        )

    async def edit(self, user: User, message_id: str, text: str) -> MessageOut:
        """Change the text of one's own text message, within the edit window."""
        message = await self._visible_message(user, message_id)
        if message.sender_id != user.id:
            raise Forbidden("Only the sender may edit a message", code="not_the_sender")
        if message.deleted or message.kind != "text":
            raise Forbidden("Only a text message that is not deleted can be edited")
        now = utcnow()
        if self._edit_window and now - message.created_at > self._edit_window:
            hours = self._edit_window / timedelta(hours=1)
            raise Forbidden(
                f"A message can be edited for {hours:g} hours after it was sent",
                code="edit_window_passed",
            )
        self._check_text(text)
        edited = await self._storage.messages.edit_text(message.id, text, now)
        if edited is None:
            raise NotFound("Message not found")  # deleted meanwhile
        await self._tell("message.updated", edited)
        return MessageOut.of(edited, user.id)

    async def react(self, user: User, message_id: str, emoji: str, *, add: bool) -> MessageOut:
        """Add (or take away) the user's `emoji` on a message of one of their chats; doing
        it twice changes nothing more."""
        check_emoji(emoji)
        message = await self._visible_message(user, message_id)
        change = with_reaction if add else without_reaction
        changed = await self._storage.messages.change_reactions(
            message.id, lambda reactions: change(reactions, user.id, emoji)
        )
        if changed is None:  # deleted (before or meanwhile): the store changes live ones only
            raise Unprocessable("A deleted message takes no reactions", code="message_deleted")
        if changed.reactions != message.reactions:
            await self._tell("message.updated", changed)
        return MessageOut.of(changed, user.id)

    async def _post(self, message: Message) -> tuple[Message, bool]:
        """Store a new message and, when it is new (not a retry), tell every member."""
        stored, created = await self._storage.messages.create(message)
        if created:
            await self._tell("message.created", stored)
        return stored, created

    async def _tell(self, kind: str, message: Message) -> None:
        """The event `kind` with the message, to every member's devices, each seeing it as
        they would read it: one event for everyone who has not reacted, one for each who
        has (their own reactions are `mine`)."""
        members = await self._chats.member_ids(message.chat_id)
        reacted = {user_id for r in message.reactions for user_id in r.user_ids}
        audiences = [[m for m in members if m not in reacted]]
        audiences += [[m] for m in members if m in reacted]
        for audience in audiences:
            if audience:
                viewed = MessageOut.of(message, audience[0])
                await self._bus.publish(
                    audience, {"type": kind, "message": viewed.model_dump(mode="json")}
                )

    def _check_text(self, text: str) -> None:
        if not text.strip():
            raise Unprocessable("Message text must not be empty")
        if len(text) > self._max_chars:
            raise Unprocessable(f"Message text is longer than {self._max_chars} characters")

    async def _visible_message(self, user: User, message_id: str) -> Message:
        message = await self._storage.messages.get(message_id)
        if message is None or not await self._chats.is_member(message.chat_id, user.id):
            raise NotFound("Message not found")
        return message


def _found(message: Message, viewer_id: str, prefixes: list[str]) -> FoundMessageOut:
    seen = MessageOut.of(message, viewer_id)
    matched = seen.text if seen.text is not None else seen.file.filename if seen.file else ""
    return FoundMessageOut(**seen.model_dump(), highlights=list(matching_spans(matched, prefixes)))
