"""Chat commands: list chats, open one, read it, say something, and follow events live."""

import argparse
import json
from typing import Any

from hypersend.cli.lookup import user_id_for
from hypersend.cli.profile import signed_in_client
from hypersend.client import Chat, Message


def register(commands: Any) -> None:
    chats = commands.add_parser("chats", help="list your chats, newest first")
    chats.set_defaults(handler=_chats)

    direct = commands.add_parser("dm", help="open the direct chat with a user (by email)")
    direct.add_argument("email")
    direct.set_defaults(handler=_direct)

    group = commands.add_parser("group", help="create a group chat")
    group.add_argument("title")
    group.add_argument("emails", nargs="+", metavar="EMAIL")
    group.set_defaults(handler=_group)

    for name, what in (("pin", "pin a chat to the top of your list"), ("mute", "mute a chat")):
        toggle = commands.add_parser(name, help=what)
        toggle.add_argument("chat_id")
        toggle.add_argument("--off", action="store_true", help=f"un{name} it")
        toggle.set_defaults(handler=_pin if name == "pin" else _mute)

    history = commands.add_parser("history", help="show a chat's latest messages")
    history.add_argument("chat_id")
    history.add_argument("--limit", type=int, default=20)
    history.set_defaults(handler=_history)

    say = commands.add_parser("say", help="send a text message")
    say.add_argument("chat_id")
    say.add_argument("text", nargs="+")
    say.add_argument("--reply-to", metavar="MESSAGE_ID", help="answer this message of the chat")
    say.set_defaults(handler=_say)

    edit = commands.add_parser("edit", help="change the text of a message you sent")
    edit.add_argument("message_id")
    edit.add_argument("text", nargs="+")
    edit.set_defaults(handler=_edit)

    react = commands.add_parser("react", help="react to a message with an emoji")
    react.add_argument("message_id")
    react.add_argument("emoji")
    react.add_argument("--remove", action="store_true", help="take your reaction away")
    react.set_defaults(handler=_react)

    search = commands.add_parser("search", help="find messages in your chats, newest first")
    search.add_argument("words", nargs="+")
    search.add_argument("--chat", metavar="CHAT_ID", help="only in this chat")
    search.add_argument("--limit", type=int, default=20)
    search.set_defaults(handler=_search)

    follow = commands.add_parser("follow", help="print events as they happen (JSON lines)")
    follow.set_defaults(handler=_follow)


async def _chats(args: argparse.Namespace) -> int:
    async with signed_in_client(args) as client:
        for chat in await client.list_chats():
            preview = _preview(chat.last_message) if chat.last_message else ""
            unread = f" ({chat.unread_count} unread)" if chat.unread_count else ""
            print(f"{chat.id}  {_marks(chat)}{chat.title}{unread}  {preview}")
    return 0


async def _pin(args: argparse.Namespace) -> int:
    async with signed_in_client(args) as client:
        chat = await client.pin_chat(args.chat_id, pinned=not args.off)
    print(f"{chat.id}  {_marks(chat)}{chat.title}")
    return 0


async def _mute(args: argparse.Namespace) -> int:
    async with signed_in_client(args) as client:
        chat = await client.mute_chat(args.chat_id, muted=not args.off)
    print(f"{chat.id}  {_marks(chat)}{chat.title}")
    return 0


def _marks(chat: Chat) -> str:
    return ("[pinned] " if chat.pinned else "") + ("[muted] " if chat.muted else "")


async def _direct(args: argparse.Namespace) -> int:
    async with signed_in_client(args) as client:
        user_id = await user_id_for(client, args.email)
        chat = await client.open_direct_chat(user_id)
    print(f"{chat.id}  {chat.title}")
    return 0


async def _group(args: argparse.Namespace) -> int:
    async with signed_in_client(args) as client:
        members = [await user_id_for(client, email) for email in args.emails]
        chat = await client.create_group(args.title, members)
    print(f"{chat.id}  {chat.title}")
    return 0


async def _history(args: argparse.Namespace) -> int:
    async with signed_in_client(args) as client:
        chat = await client.get_chat(args.chat_id)
        names = {member.id: member.name for member in chat.members}
        page = await client.messages(args.chat_id, limit=args.limit)
    for message in page.messages:
        when = message.created_at.strftime("%Y-%m-%d %H:%M")
        answered = ""
        if message.reply_to is not None:
            quoted = message.reply_to.preview or "a deleted message"
            answered = f"  [to {names.get(message.reply_to.sender_id, '?')}: {quoted}]"
        reactions = f"  {_reactions(message)}" if message.reactions else ""
        sender = names.get(message.sender_id, "?")
        print(f"{when}  {sender}: {_preview(message)}{answered}{reactions}")
    return 0


async def _say(args: argparse.Namespace) -> int:
    async with signed_in_client(args) as client:
        message = await client.send_message(
            args.chat_id, " ".join(args.text), reply_to=args.reply_to
        )
    print(message.id)
    return 0


async def _edit(args: argparse.Namespace) -> int:
    async with signed_in_client(args) as client:
        message = await client.edit_message(args.message_id, " ".join(args.text))
    print(f"{message.id}  {_preview(message)}")
    return 0


async def _react(args: argparse.Namespace) -> int:
    async with signed_in_client(args) as client:
        message = await client.react(args.message_id, args.emoji, remove=args.remove)
    print(f"{message.id}  {_reactions(message) or '(no reactions)'}")
    return 0


async def _search(args: argparse.Namespace) -> int:
    async with signed_in_client(args) as client:
        page = await client.search_messages(
            " ".join(args.words), chat_id=args.chat, limit=args.limit
        )
    for found in page.found:
        message = found.message
        shown = message.file.filename if message.file else message.text or ""
        when = message.created_at.strftime("%Y-%m-%d %H:%M")
        print(f"{when}  {message.chat_id}  {message.id}  {_marked(shown, found.highlights)}")
    if not page.found:
        print("(nothing found)")
    return 0


async def _follow(args: argparse.Namespace) -> int:
    async with signed_in_client(args) as client:
        async for event in client.follow_events():
            print(json.dumps(event), flush=True)
    return 0


def _preview(message: Message) -> str:
    if message.deleted:
        return "(deleted)"
    if message.file is not None:
        return f"[file] {message.file.filename} ({message.file.id})"
    return (message.text or "") + (" (edited)" if message.edited_at else "")


def _reactions(message: Message) -> str:
    """`👍 2  ❤️ 1*`: each emoji with its count, starred where one of them is yours."""
    return "  ".join(f"{r.emoji} {r.count}{'*' if r.mine else ''}" for r in message.reactions)


def _marked(text: str, spans: tuple[tuple[int, int], ...]) -> str:
    """`text` with each matching word in [brackets]."""
    for start, end in sorted(spans, reverse=True):
        text = f"{text[:start]}[{text[start:end]}]{text[end:]}"
    return text
