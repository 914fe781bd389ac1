"""Finding messages in all of one's chats: newest first, the matching words marked, a tap
opens the chat; more results as one scrolls."""

import functools
from collections.abc import Awaitable, Callable

import flet as ft

from hypersend.client import Found, HyperSendError
from hypersend.clock import utcnow
from hypersend.ui.presenters import found_text, marked_pieces, short_time
from hypersend.ui.session import AppSession
from hypersend.ui.shown import update_if_shown

PAGE_SIZE = 30


class SearchScreen(ft.Column):
    def __init__(self, session: AppSession, open_chat: Callable[[str], Awaitable[None]]) -> None:
        self._session = session
        self._open_chat = open_chat
        self._titles: dict[str, str] = {}
        self._query = ""
        self._last: str | None = None
        self.field = ft.TextField(
            hint_text="Search messages", autofocus=True, expand=True, on_submit=self._search,
            prefix_icon=ft.Icons.SEARCH,
        )  # fmt: skip
        self.status = ft.Text("", size=12, italic=True)
        self.results = ft.ListView(expand=True, spacing=2, padding=8)
        self.more = ft.TextButton("More results", on_click=self._more, visible=False)
        super().__init__(
            [
                ft.Container(ft.Row([self.field]), padding=ft.Padding(8, 8, 8, 0)),
                ft.Container(self.status, padding=ft.Padding(12, 0, 12, 0)),
                self.results,
                self.more,
            ],
            expand=True,
        )

    async def _search(self) -> None:
        self._query = (self.field.value or "").strip()
        self.results.controls = []
        self._last = None
        if not self._query:
            self.status.value = ""
            update_if_shown(self)
            return
        if not self._titles:
            chats = await self._session.client.list_chats()
            self._titles = {chat.id: chat.title for chat in chats}
        await self._load()

    async def _more(self) -> None:
        await self._load()

    async def _load(self) -> None:
        try:
            page = await self._session.client.search_messages(
                self._query, before=self._last, limit=PAGE_SIZE
            )
        except HyperSendError as exc:
            self.status.value = str(getattr(exc, "detail", exc))
            self.more.visible = False
            update_if_shown(self)
            return
        self.results.controls += [self._row(found) for found in page.found]
        if page.found:
            self._last = page.found[-1].message.id
        shown = len(self.results.controls)
        self.status.value = f"{shown} found" if shown else "Nothing found"
        self.more.visible = page.has_more
        update_if_shown(self)

    def _row(self, found: Found) -> ft.Control:
        message = found.message
        # No emoji font fallback here: in spans, CanvasKit then draws every space with the
        # emoji font's wide one.
        plain = ft.TextStyle()
        marked = ft.TextStyle(weight=ft.FontWeight.BOLD, bgcolor=ft.Colors.TERTIARY_CONTAINER)
        spans = [
            ft.TextSpan(piece, marked if is_match else plain)
            for piece, is_match in marked_pieces(found_text(found), found.highlights)
        ]
        return ft.ListTile(
            leading=ft.Icon(ft.Icons.INSERT_DRIVE_FILE if message.file else ft.Icons.CHAT),
            title=ft.Text(self._titles.get(message.chat_id, "Chat"), size=12),
            subtitle=ft.Text(spans=spans, max_lines=3),
            trailing=ft.Text(short_time(message.created_at, utcnow()), size=11),
            on_click=functools.partial(self._open_chat, message.chat_id),
        )
