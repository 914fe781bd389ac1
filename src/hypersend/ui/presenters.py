"""What the screens show, computed from the client's models: no Flet in here, so it is
tested on its own."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from hypersend.client import Chat, Found, Message, Presence, Reaction
from hypersend.humanize import human_bytes, human_duration

WEB_PICKER_LIMIT = 100 * 1024 * 1024
"""On the web, Flet's file picker hands the whole file over in memory (and truncates big
ones), so the app takes files up to this size that way and refuses larger ones clearly."""


def initials(name: str) -> str:
    words = [word for word in name.split() if word[:1].isalnum()]
    return "".join(word[0] for word in words[:2]).upper() or "?"


def short_time(moment: datetime, now: datetime) -> str:
    """'14:05' today, 'Mon' this week, '03.11.26' before that (local time)."""
    local, today = moment.astimezone(), now.astimezone()
    if local.date() == today.date():
        return local.strftime("%H:%M")
    if today - local < timedelta(days=6):
        return local.strftime("%a")
    return local.strftime("%d.%m.%y")


def day_label(moment: datetime, now: datetime) -> str:
    local, today = moment.astimezone().date(), now.astimezone().date()
    if local == today:
        return "Today"
    if local == today - timedelta(days=1):
        return "Yesterday"
    return local.strftime("%A, %d %B %Y")


def bubble_time(message: Message) -> str:
    """The time under a message: when it was sent, marked when its text was edited since."""
    sent = message.created_at.astimezone().strftime("%H:%M")
    return f"edited {sent}" if message.edited_at and not message.deleted else sent


def quote_label(message: Message, names: dict[str, str]) -> str | None:
    """The line a reply shows of the message it answers ("Ann: lunch?"), if it is one."""
    quoted = message.reply_to
    if quoted is None or message.deleted:
        return None
    return f"{names.get(quoted.sender_id, 'Someone')}: {quoted.preview or 'Deleted message'}"


def preview(message: Message | None) -> str:
    if message is None:
        return "No messages yet"
    if message.deleted:
        return "Message deleted"
    if message.file is not None:
        return message.file.filename  # shown beside a file icon (see ChatRow.preview_is_file)
    return (message.text or "").replace("\n", " ")[:80]


@dataclass(frozen=True, slots=True)
class ChatRow:
    chat_id: str
    title: str
    initials: str
    preview: str
    preview_is_file: bool  # drawn with an icon, not an emoji: offline web has no emoji font
    time: str
    unread: int
    pinned: bool
    muted: bool  # its unread count is shown, without highlight


def chat_row(chat: Chat, now: datetime) -> ChatRow:
    last = chat.last_message
    return ChatRow(
        chat_id=chat.id,
        title=chat.title,
        initials=initials(chat.title),
        preview=preview(last),
        preview_is_file=last is not None and not last.deleted and last.file is not None,
        time=short_time(last.created_at if last else chat.updated_at, now),
        unread=chat.unread_count,
        pinned=chat.pinned,
        muted=chat.muted,
    )


def read_by_others(chat: Chat, message: Message, me: str) -> bool:
    """Whether every other member's read pointer has reached `message` (two ticks)."""
    others = [member for member in chat.members if member.id != me]
    return bool(others) and all(
        (member.last_read_message_id or "") >= message.id for member in others
    )


def file_label(message: Message) -> str:
    assert message.file is not None
    return f"{message.file.filename} · {human_bytes(message.file.size)}"


def web_pick_refusal(size: int) -> str | None:
    """Why the web app will not take a picked file of `size` bytes, or None."""
    if size <= WEB_PICKER_LIMIT:
        return None
    return (
        f"This file is {human_bytes(size)}. Files over {human_bytes(WEB_PICKER_LIMIT)} go "
        "through the upload page: choose Send a file, then Large file."
    )


def transfer_status(done: int, total: int, rate: float) -> str:
    left = (total - done) / rate if rate > 0 else 0
    return (
        f"{human_bytes(done)} of {human_bytes(total)} · {human_bytes(rate)}/s"
        f" · {human_duration(left)} left"
    )


def offer_label(transfer: dict[str, Any], chat: Chat, me: str) -> str:
    """How a P2P transfer offered in a chat reads, for its sender or its receiver."""
    names = {member.id: member.name for member in chat.members}
    what = f"{transfer['filename']} ({human_bytes(transfer['size'])})"
    if transfer["sender_id"] == me:
        receiver = names.get(transfer["receiver_id"], "them")
        return f"Sending {what} directly to {receiver}: waiting for them"
    sender = names.get(transfer["sender_id"], "Someone")
    return f"{sender} wants to send you {what} directly"


def other_member(chat: Chat, me: str) -> str | None:
    """The other person of a direct chat (None in groups): whom a direct transfer goes to."""
    if chat.type != "direct":
        return None
    return next((member.id for member in chat.members if member.id != me), None)


QUICK_REACTIONS = ("👍", "❤️", "😂", "😮", "😢", "🙏")
"""The emoji offered at a tap on a message."""


def reaction_label(reaction: Reaction) -> str:
    return f"{reaction.emoji} {reaction.count}"


def reaction_who(reaction: Reaction, names: dict[str, str]) -> str:
    """Who reacted so, by name ('Ann, Ben and 3 more')."""
    shown = [names.get(user_id, "Someone") for user_id in reaction.user_ids[:3]]
    more = len(reaction.user_ids) - len(shown)
    return ", ".join(shown) + (f" and {more} more" if more else "")


def marked_pieces(text: str, highlights: tuple[tuple[int, int], ...]) -> list[tuple[str, bool]]:
    """`text` cut into pieces, each with whether it is a highlighted match."""
    pieces: list[tuple[str, bool]] = []
    position = 0
    for start, end in sorted(highlights):
        if start < position or end > len(text):
            continue
        if start > position:
            pieces.append((text[position:start], False))
        pieces.append((text[start:end], True))
        position = end
    if position < len(text):
        pieces.append((text[position:], False))
    return pieces


def found_text(found: Found) -> str:
    """What a search result shows: the message's text, or its file's name."""
    message = found.message
    if message.text is not None:
        return message.text
    return message.file.filename if message.file else ""


def presence_label(presence: Presence, now: datetime) -> str:
    """'online', 'last seen 14:05' (today), 'last seen Mon' or '… 03.11.26'; '' when hidden."""
    if presence.online:
        return "online"
    if presence.last_seen is None:
        return ""
    return f"last seen {short_time(presence.last_seen, now)}"
