"""What a tap on a message offers: a quick reaction, reply, showing the message it answers,
forward, edit, delete; and the two small dialogs behind edit and forward."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import flet as ft

from hypersend.client import Chat, Message
from hypersend.ui.presenters import QUICK_REACTIONS

EMOJI_FONTS = ["Noto Color Emoji"]
"""Drawn with the bundled emoji font wherever emoji may appear (the offline web build has no
emoji font of its own)."""

Act = Callable[[], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class MessageActions:
    """What may be done with one message; None: not offered."""

    react: Callable[[str], Awaitable[None]]
    reply: Act
    show_answered: Act | None
    forward: Act | None
    edit: Act | None
    delete: Act | None


def actions_dialog(page: ft.Page, actions: MessageActions) -> ft.AlertDialog:
    def run(act: Act) -> Callable[[], Awaitable[None]]:
        async def chosen() -> None:
            page.pop_dialog()
            await act()

        return chosen

    def reacting(emoji: str) -> Callable[[], Awaitable[None]]:
        async def chosen() -> None:
            page.pop_dialog()
            await actions.react(emoji)

        return chosen

    quick = ft.Row(
        [
            ft.TextButton(
                content=ft.Text(emoji, size=22, font_family_fallback=EMOJI_FONTS),
                tooltip=f"React {emoji}",
                on_click=reacting(emoji),
            )
            for emoji in QUICK_REACTIONS
        ],
        wrap=True,
        spacing=0,
    )
    choices: list[ft.Control] = [
        quick,
        ft.TextButton("Reply", icon=ft.Icons.REPLY, on_click=run(actions.reply)),
    ]
    if actions.show_answered is not None:
        choices.append(
            ft.TextButton(
                "Show the message it answers",
                icon=ft.Icons.FORMAT_QUOTE,
                on_click=run(actions.show_answered),
            )
        )
    if actions.forward is not None:
        choices.append(
            ft.TextButton("Forward", icon=ft.Icons.SHORTCUT, on_click=run(actions.forward))
        )
    if actions.edit is not None:
        choices.append(ft.TextButton("Edit", icon=ft.Icons.EDIT, on_click=run(actions.edit)))
    if actions.delete is not None:
        choices.append(ft.TextButton("Delete", icon=ft.Icons.DELETE, on_click=run(actions.delete)))
    return ft.AlertDialog(
        title=ft.Text("Message"),
        content=ft.Column(choices, tight=True, spacing=4),
        actions=[ft.TextButton("Cancel", on_click=lambda _: page.pop_dialog())],
    )


def edit_dialog(
    page: ft.Page, message: Message, save: Callable[[str], Awaitable[None]]
) -> ft.AlertDialog:
    field = ft.TextField(
        value=message.text or "", label="Edited text", multiline=True, min_lines=1, max_lines=6,
        autofocus=True,
    )  # fmt: skip

    async def saved() -> None:
        text = (field.value or "").strip()
        page.pop_dialog()
        if text and text != message.text:
            await save(text)

    return ft.AlertDialog(
        title=ft.Text("Edit message"),
        content=field,
        actions=[
            ft.TextButton("Cancel", on_click=lambda _: page.pop_dialog()),
            ft.FilledButton("Save", on_click=saved),
        ],
    )


def forward_dialog(
    page: ft.Page, chats: list[Chat], forward: Callable[[Chat], Awaitable[None]]
) -> ft.AlertDialog:
    def into(chat: Chat) -> Callable[[], Awaitable[None]]:
        async def chosen() -> None:
            page.pop_dialog()
            await forward(chat)

        return chosen

    rows: list[ft.Control] = [
        ft.TextButton(chat.title, icon=ft.Icons.CHAT, on_click=into(chat)) for chat in chats
    ]
    return ft.AlertDialog(
        title=ft.Text("Forward to"),
        content=ft.Column(
            rows or [ft.Text("No other chats yet")], tight=True, scroll=ft.ScrollMode.AUTO
        ),
        actions=[ft.TextButton("Cancel", on_click=lambda _: page.pop_dialog())],
    )
