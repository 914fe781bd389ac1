"""Direct and group chats: who is in them, and what each member sees in their list."""

from hypersend.chats.membership import MembershipCache
from hypersend.chats.schemas import ChatOut
from hypersend.clock import utcnow
from hypersend.errors import Conflict, Forbidden, NotFound, Unprocessable
from hypersend.ids import new_id
from hypersend.realtime.bus import EventBus
from hypersend.storage import Storage
from hypersend.storage.errors import DuplicateError
from hypersend.storage.models import Chat, User

MAX_PINNED = 5
"""Chats one person may pin."""


class ChatService:
    def __init__(self, storage: Storage, bus: EventBus, membership: MembershipCache) -> None:
        self._storage = storage
        self._bus = bus
        self._membership = membership

    async def require_member(self, chat_id: str, user_id: str) -> None:
        """404 unless the chat exists and the user is one of its members."""
        if not await self.is_member(chat_id, user_id):
            raise NotFound("Chat not found")

    async def is_member(self, chat_id: str, user_id: str) -> bool:
        """From the membership cache, which every process keeps current."""
        return user_id in await self._membership.members(chat_id)

    async def member_ids(self, chat_id: str) -> list[str]:
        return list(await self._membership.members(chat_id))

    async def view(self, chat_id: str, viewer_id: str) -> ChatOut:
        summary = await self._storage.chats.summary(chat_id, viewer_id)
        if summary is None:
            raise NotFound("Chat not found")
        return ChatOut.of(summary, viewer_id)

    async def list_for(self, user: User) -> list[ChatOut]:
        """The user's chats: the pinned ones first (latest pinned on top), then the rest by
        their latest activity."""
        summaries = await self._storage.chats.list_for_user(user.id)
        pinned = sorted(
            (s for s in summaries if s.pinned_at(user.id)),
            key=lambda s: s.pinned_at(user.id) or s.chat.updated_at,
            reverse=True,
        )
        rest = [s for s in summaries if not s.pinned_at(user.id)]
        return [ChatOut.of(s, user.id) for s in [*pinned, *rest]]

    async def pin(self, user: User, chat_id: str, *, pinned: bool) -> ChatOut:
        """Pin the chat to the top of the user's own list (at most `MAX_PINNED`), or unpin it;
        again changes nothing. The user's other devices get `chat.updated`."""
        await self.require_member(chat_id, user.id)
        member = await self._storage.chats.member(chat_id, user.id)
        if pinned and member is not None and member.pinned_at is None:
            if await self._storage.chats.pinned_count(user.id) >= MAX_PINNED:
                raise Conflict(
                    f"At most {MAX_PINNED} chats can be pinned: unpin one first",
                    code="too_many_pinned",
                )
            await self._storage.chats.set_pinned(chat_id, user.id, utcnow())
        elif not pinned:
            await self._storage.chats.set_pinned(chat_id, user.id, None)
        return await self._tell_own_devices(chat_id, user)

    async def mute(self, user: User, chat_id: str, *, muted: bool) -> ChatOut:
        """Mute the chat for the user (its unread count shows without highlight), or not."""
        await self.require_member(chat_id, user.id)
        await self._storage.chats.set_muted(chat_id, user.id, muted)
        return await self._tell_own_devices(chat_id, user)

    async def _tell_own_devices(self, chat_id: str, user: User) -> ChatOut:
        chat = await self.view(chat_id, user.id)
        await self._bus.publish(
            [user.id], {"type": "chat.updated", "chat": chat.model_dump(mode="json")}
        )
        return chat

    async def open_direct(self, user: User, member_ids: list[str]) -> tuple[ChatOut, bool]:
        """The one direct chat between the caller and another user; True if it is new."""
        others = {member_id for member_id in member_ids if member_id != user.id}
        if len(others) != 1 or len(member_ids) != 1:
            raise Unprocessable("A direct chat has exactly one other member")
        (other_id,) = others
        await self._require_users([other_id])
        direct_key = ":".join(sorted((user.id, other_id)))
        existing = await self._storage.chats.get_direct(direct_key)
        if existing is not None:
            return await self.view(existing.id, user.id), False
        chat = self._new_chat(user, "direct", "", direct_key)
        try:
            await self._storage.chats.create(chat, [user.id, other_id])
            await self._bus.chat_changed(chat.id)
        except DuplicateError:
            raced = await self._storage.chats.get_direct(direct_key)
            assert raced is not None
            return await self.view(raced.id, user.id), False
        await self._announce("chat.created", chat.id, [user.id, other_id])
        return await self.view(chat.id, user.id), True

    async def create_group(self, user: User, title: str | None, member_ids: list[str]) -> ChatOut:
        title = (title or "").strip()
        if not title:
            raise Unprocessable("A group needs a title")
        members = list(dict.fromkeys([user.id, *member_ids]))
        await self._require_users(members)
        chat = self._new_chat(user, "group", title, None)
        await self._storage.chats.create(chat, members)
        await self._bus.chat_changed(chat.id)
        await self._announce("chat.created", chat.id, members)
        return await self.view(chat.id, user.id)

    async def add_member(self, user: User, chat_id: str, new_member_id: str) -> ChatOut:
        chat = await self._group_of_member(chat_id, user.id)
        await self._require_users([new_member_id])
        added = await self._storage.chats.add_member(chat.id, new_member_id)
        await self._bus.chat_changed(chat.id)
        if added:
            await self._announce("chat.updated", chat.id, await self.member_ids(chat.id))
        return await self.view(chat.id, user.id)

    async def remove_member(self, user: User, chat_id: str, member_id: str) -> None:
        """Leave a group (anyone), or remove someone else from it (its creator)."""
        chat = await self._group_of_member(chat_id, user.id)
        if member_id != user.id and chat.created_by != user.id:
            raise Forbidden("Only the group's creator may remove other members")
        removed = await self._storage.chats.remove_member(chat.id, member_id)
        await self._bus.chat_changed(chat.id)
        if not removed:
            raise NotFound("Not a member of this chat")
        await self._storage.chats.touch(chat.id)
        await self._bus.publish([member_id], {"type": "chat.removed", "chat_id": chat.id})
        await self._announce("chat.updated", chat.id, await self.member_ids(chat.id))

    async def typing(self, user_id: str, chat_id: str) -> None:
        await self.require_member(chat_id, user_id)
        others = [m for m in await self.member_ids(chat_id) if m != user_id]
        await self._bus.publish(others, {"type": "typing", "chat_id": chat_id, "user_id": user_id})

    async def _group_of_member(self, chat_id: str, user_id: str) -> Chat:
        await self.require_member(chat_id, user_id)
        chat = await self._storage.chats.get(chat_id)
        if chat is None:
            raise NotFound("Chat not found")
        if chat.type != "group":
            raise Unprocessable("A direct chat's members cannot change")
        return chat

    async def _require_users(self, user_ids: list[str]) -> None:
        found = {u.id for u in await self._storage.users.get_many(user_ids) if not u.disabled}
        unknown = [user_id for user_id in user_ids if user_id not in found]
        if unknown:
            raise Unprocessable(f"Unknown user: {unknown[0]}", code="unknown_user")

    async def _announce(self, event_type: str, chat_id: str, member_ids: list[str]) -> None:
        """Send each member the chat as they see it (titles and unread counts differ)."""
        for member_id in member_ids:
            chat = await self.view(chat_id, member_id)
            await self._bus.publish(
                [member_id], {"type": event_type, "chat": chat.model_dump(mode="json")}
            )

    @staticmethod
    def _new_chat(user: User, chat_type: str, title: str, direct_key: str | None) -> Chat:
        now = utcnow()
        return Chat(
            id=new_id(),
            type=chat_type,
            title=title,
            created_by=user.id,
            created_at=now,
            updated_at=now,
            direct_key=direct_key,
        )
