"""The chat list: pinned chats first, then newest activity, with avatars, previews, times and
unread badges (muted ones without highlight); and starting a direct chat or a group. (A chat
is pinned and muted from its own screen: a tappable part inside a list tile would take the
tile's text into its label on the web.)"""

from collections.abc import Awaitable, Callable

import flet as ft

from hypersend.client import Chat, HyperSendError
from hypersend.clock import utcnow
from hypersend.ui.presenters import ChatRow, chat_row
from hypersend.ui.session import AppSession
from hypersend.ui.shown import update_if_shown

OpenChat = Callable[[str], Awaitable[None]]


def chat_tile(row: ChatRow, on_open: OpenChat) -> ft.ListTile:
    async def open_it() -> None:
        await on_open(row.chat_id)

    marks: list[ft.Control] = [ft.Text(row.time, size=12)]
    if row.muted:
        marks.append(ft.Icon(ft.Icons.NOTIFICATIONS_OFF, size=14, semantics_label="muted"))
    if row.pinned:
        marks.append(ft.Icon(ft.Icons.PUSH_PIN, size=14, semantics_label="pinned"))
    trailing: list[ft.Control] = [ft.Row(marks, spacing=2, tight=True)]
    if row.unread:
        trailing.append(
            ft.Container(
                ft.Text(
                    str(row.unread),
                    size=11,
                    color=ft.Colors.ON_SURFACE if row.muted else ft.Colors.ON_PRIMARY,
                ),
                bgcolor=ft.Colors.OUTLINE_VARIANT if row.muted else ft.Colors.PRIMARY,
                border_radius=10,
                padding=ft.Padding(left=7, right=7, top=1, bottom=1),
            )
        )
    return ft.ListTile(
        leading=ft.CircleAvatar(content=ft.Text(row.initials)),
        title=ft.Text(row.title, weight=ft.FontWeight.W_600),
        subtitle=chat_preview(row),
        trailing=ft.Column(
            trailing, horizontal_alignment=ft.CrossAxisAlignment.END, spacing=4, tight=True
        ),
        on_click=open_it,
    )


def chat_preview(row: ChatRow) -> ft.Control:
    text = ft.Text(row.preview, max_lines=1, overflow=ft.TextOverflow.ELLIPSIS)
    if not row.preview_is_file:
        return text
    text.expand = True
    return ft.Row([ft.Icon(ft.Icons.ATTACH_FILE, size=16), text], spacing=4)


class ChatListScreen(ft.Column):
    def __init__(self, session: AppSession, on_open: OpenChat) -> None:
        self._session = session
        self._on_open = on_open
        self.list = ft.ListView(expand=True)
        self.empty = ft.Text("No chats yet: start one with the + button.", visible=False)
        super().__init__([self.empty, self.list], expand=True)

    async def reload(self) -> None:
        chats = await self._session.client.list_chats()
        self.show(chats)

    def show(self, chats: list[Chat]) -> None:
        now = utcnow()
        self.list.controls = [chat_tile(chat_row(chat, now), self._on_open) for chat in chats]
        self.empty.visible = not chats
        update_if_shown(self)


class NewChatDialog(ft.AlertDialog):
    """Find people by name or email; one of them opens a direct chat, several make a group."""

    def __init__(self, session: AppSession, on_open: OpenChat) -> None:
        self._session = session
        self._on_open = on_open
        self._picked: dict[str, str] = {}
        self.query = ft.TextField(
            label="Search people",
            hint_text="A contact's name, or anyone's exact email",
            autofocus=True,
            on_change=self._search,
        )
        self.results = ft.Column(tight=True)
        self.group_title = ft.TextField(label="Group name (for a group)")
        self.error = ft.Text(color=ft.Colors.ERROR, visible=False)
        super().__init__(
            title=ft.Text("New chat"),
            content=ft.Column(
                [self.query, self.results, self.group_title, self.error], tight=True, width=360
            ),
            actions=[
                ft.TextButton("Cancel", on_click=self._close),
                ft.FilledButton("Start", on_click=self._start),
            ],
        )

    async def _search(self) -> None:
        text = (self.query.value or "").strip()
        found = await self._session.client.search_users(text) if len(text) >= 2 else []
        if (self.query.value or "").strip() != text:
            # Typed on meanwhile: answers to quick successive searches can arrive out of
            # order, and only the one for what the field says now may be shown.
            return
        self.results.controls = [self._choice(user.id, user.name, user.email) for user in found]
        update_if_shown(self)

    def _choice(self, user_id: str, name: str, email: str) -> ft.Checkbox:
        box = ft.Checkbox(label=f"{name} <{email}>", value=user_id in self._picked)

        def pick() -> None:
            if box.value:
                self._picked[user_id] = name
            else:
                self._picked.pop(user_id, None)

        box.on_change = pick
        return box

    async def _start(self) -> None:
        client = self._session.client
        try:
            if len(self._picked) == 1 and not (self.group_title.value or "").strip():
                chat = await client.open_direct_chat(next(iter(self._picked)))
            elif self._picked:
                title = (self.group_title.value or "").strip() or ", ".join(self._picked.values())
                chat = await client.create_group(title, list(self._picked))
            else:
                raise ValueError("Pick someone first")
        except (HyperSendError, ValueError) as exc:
            self.error.value = str(getattr(exc, "detail", exc))
            self.error.visible = True
            update_if_shown(self)
            return
        self._close()
        await self._on_open(chat.id)

    def _close(self) -> None:
        self.open = False
        update_if_shown(self)
