"""The app's shell: signs in (or restores the session), then shows the chat list or one
chat, kept current by one live connection."""

import asyncio
import contextlib
import logging
import os
from pathlib import Path
from typing import Any

import flet as ft

from hypersend.ui.chat_list import ChatListScreen, NewChatDialog
from hypersend.ui.chat_room import ChatRoomScreen
from hypersend.ui.downloads import downloads_folder
from hypersend.ui.live import LiveConnection
from hypersend.ui.search import SearchScreen
from hypersend.ui.session import AppSession
from hypersend.ui.settings import SettingsScreen
from hypersend.ui.sign_in import SignInScreen

DEFAULT_SERVER = "http://127.0.0.1:8000"
ASSETS = Path(__file__).parent / "assets"
EMOJI_FONT = {"Noto Color Emoji": "fonts/NotoColorEmoji.ttf"}
"""The offline web build has no emoji font (Flutter fetches one from a CDN, which it may not
reach): the app serves its own (`assets/fonts`, SIL Open Font License) to the texts that may
hold emoji (`message_actions.EMOJI_FONTS`). Other platforms have the system's."""
logger = logging.getLogger("hypersend.app")


def default_server() -> str:
    """`--server` (passed on as `API_URL`), else `API_URL`, else the local server."""
    return os.environ.get("API_URL", "") or DEFAULT_SERVER


class HyperSendApp:
    def __init__(self, page: ft.Page) -> None:
        self.page = page
        browser = (page.client_ip or "", page.client_user_agent or "") if page.web else None
        self.session = AppSession(
            ft.SharedPreferences(),
            default_server(),
            on_behalf_of=browser if browser and browser[0] else None,
        )
        self.chats = ChatListScreen(self.session, self.open_chat)
        self.room: ChatRoomScreen | None = None
        self.live: LiveConnection | None = None
        self._live_task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        page = self.page
        page.title = "HyperSend"
        page.theme = ft.Theme(color_scheme_seed=ft.Colors.TEAL)
        page.padding = 0
        if page.web:
            page.fonts = EMOJI_FONT
        if await self.session.restore():
            await self.show_chats()
        else:
            self.show_sign_in()

    # Screens

    def show_sign_in(self) -> None:
        page = self.page
        page.appbar = None
        page.floating_action_button = None
        page.controls = [
            ft.SafeArea(
                ft.Container(
                    SignInScreen(self.session, self.signed_in),
                    padding=24,
                    alignment=ft.Alignment.TOP_CENTER,
                ),
                expand=True,
            )
        ]
        page.update()

    async def signed_in(self) -> None:
        await self.show_chats()

    async def show_chats(self) -> None:
        page = self.page
        self.room = None
        me = self.session.me
        page.appbar = ft.AppBar(
            title=ft.Text("Chats"),
            actions=[
                ft.Text(me.name if me else "", size=12),
                ft.IconButton(ft.Icons.SEARCH, tooltip="Search", on_click=self.show_search),
                ft.IconButton(ft.Icons.SETTINGS, tooltip="Settings", on_click=self.show_settings),
            ],
        )
        page.floating_action_button = ft.FloatingActionButton(
            icon=ft.Icons.ADD, tooltip="New chat", on_click=self.new_chat
        )
        page.controls = [ft.SafeArea(self.chats, expand=True)]
        page.update()
        self._ensure_live()
        await self.chats.reload()

    async def open_chat(self, chat_id: str) -> None:
        page = self.page
        self.room = ChatRoomScreen(
            self.session, chat_id, self.notify, self._typing, self._downloads()
        )
        page.floating_action_button = None
        page.appbar = ft.AppBar(
            leading=ft.IconButton(ft.Icons.ARROW_BACK, tooltip="Back", on_click=self.back),
            title=self.room.title,
            actions=[self.room.pin_button, self.room.mute_button],
        )
        page.controls = [ft.SafeArea(self.room, expand=True)]
        page.update()
        await self.room.load()

    async def show_search(self) -> None:
        page = self.page
        self.room = None
        page.floating_action_button = None
        page.appbar = ft.AppBar(
            leading=ft.IconButton(ft.Icons.ARROW_BACK, tooltip="Back", on_click=self.back),
            title=ft.Text("Search"),
        )
        page.controls = [ft.SafeArea(SearchScreen(self.session, self.open_chat), expand=True)]
        page.update()

    async def show_settings(self) -> None:
        page = self.page
        self.room = None
        downloads = self._downloads()
        page.floating_action_button = None
        page.appbar = ft.AppBar(
            leading=ft.IconButton(ft.Icons.ARROW_BACK, tooltip="Back", on_click=self.back),
            title=ft.Text("Settings"),
        )
        page.controls = [
            ft.SafeArea(SettingsScreen(self.session, downloads, self.sign_out), expand=True)
        ]
        page.update()

    def _downloads(self) -> Path | None:
        """Where downloads go; None in a browser, which downloads by itself."""
        return None if self.page.web else downloads_folder(self.page.platform)

    async def back(self) -> None:
        await self.show_chats()

    async def new_chat(self) -> None:
        self.page.show_dialog(NewChatDialog(self.session, self.open_chat))

    async def sign_out(self) -> None:
        if self._live_task is not None:
            self._live_task.cancel()
            self._live_task = None
        with contextlib.suppress(Exception):
            await self.session.sign_out()
        self.show_sign_in()

    def notify(self, text: str) -> None:
        self.page.show_dialog(ft.SnackBar(ft.Text(text)))

    # Live updates

    def _ensure_live(self) -> None:
        if self._live_task is None or self._live_task.done():
            self.live = LiveConnection(
                self.session.client, self._on_event, self._caught_up, self._signed_out_elsewhere
            )
            self._live_task = asyncio.ensure_future(self.live.run())
            self._live_task.add_done_callback(_report_crash)

    async def _typing(self, chat_id: str) -> None:
        if self.live is not None:
            await self.live.typing(chat_id)

    async def _on_event(self, event: dict[str, Any]) -> None:
        if self.room is not None:
            await self.room.on_event(event)
        elif event.get("type", "").startswith(("message.", "chat.")):
            await self.chats.reload()

    async def _caught_up(self) -> None:
        """After a reconnection: fetch what was missed."""
        if self.room is not None:
            await self.room.load()
        else:
            await self.chats.reload()

    async def _signed_out_elsewhere(self) -> None:
        self._live_task = None
        await self.sign_out()


def _report_crash(task: "asyncio.Task[None]") -> None:
    if not task.cancelled() and task.exception() is not None:
        logger.error("The live connection stopped", exc_info=task.exception())


async def main(page: ft.Page) -> None:
    await HyperSendApp(page).start()
