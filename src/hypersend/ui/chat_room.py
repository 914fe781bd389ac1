"""One chat: message bubbles with date separators, times, read ticks, reactions and image
previews, history on demand, typing indicator, a tap on a message to react, reply, forward,
edit or delete it, sending text and files, downloading files."""

import asyncio
import contextlib
import functools
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import flet as ft

from hypersend.client import Chat, HyperSendError, Message, Presence
from hypersend.clock import utcnow
from hypersend.humanize import human_bytes
from hypersend.ui.message_actions import (
    EMOJI_FONTS,
    MessageActions,
    actions_dialog,
    edit_dialog,
    forward_dialog,
)
from hypersend.ui.p2p_transfers import P2pTransfers
from hypersend.ui.presenters import (
    WEB_PICKER_LIMIT,
    bubble_time,
    day_label,
    file_label,
    other_member,
    presence_label,
    preview,
    quote_label,
    reaction_label,
    reaction_who,
    read_by_others,
    web_pick_refusal,
)
from hypersend.ui.session import AppSession
from hypersend.ui.shown import update_if_shown
from hypersend.ui.transfer_rows import TransferList, TransferRow, Work

PAGE_SIZE = 50
EARLIER_PAGE_MARGIN = 200.0  # px from the oldest message shown at which the page before loads
TYPING_SHOWN_SECONDS = 4.0
CACHE_EXTENT = 200_000.0
"""Pixels of bubbles built beyond the screen: every loaded one, in practice (pages of 50),
so that a tap on a quote can scroll to the message it answers wherever it is."""


class ChatRoomScreen(ft.Column):
    def __init__(
        self,
        session: AppSession,
        chat_id: str,
        notify: Callable[[str], None],
        send_typing: Callable[[str], Awaitable[None]],
        downloads: Path | None,
    ) -> None:
        """`downloads`: where downloads go; None in a browser (which downloads by itself)."""
        self._session = session
        self._downloads = downloads
        self._send_typing = send_typing
        self.chat_id = chat_id
        self._tell_user = notify
        self._chat: Chat | None = None
        self._oldest: str | None = None
        self._loading_older = False
        self._messages: dict[str, Message] = {}
        self._typing_until = 0.0
        self._typing_task: asyncio.Task[None] | None = None
        self._replying: Message | None = None
        self._previews: dict[str, bytes | None] = {}  # file id -> thumbnail (None: loading)
        self._loading: set[asyncio.Future[None]] = set()
        self.title = ft.Text("", size=18, weight=ft.FontWeight.W_600)
        self.pin_button = ft.IconButton(ft.Icons.PUSH_PIN_OUTLINED, on_click=self._toggle_pin)
        self.mute_button = ft.IconButton(
            ft.Icons.NOTIFICATIONS_OUTLINED, on_click=self._toggle_mute
        )
        self._show_pin_and_mute()
        self.typing = ft.Text("", size=12, italic=True)
        self.presence = ft.Text("", size=12)
        self.older = ft.TextButton(
            "Load earlier messages", on_click=self._load_older, visible=False
        )
        # Newest first, drawn bottom-up: the view rests on the latest message without
        # scrolling, and loading earlier pages grows it upwards without moving what is shown.
        self.bubbles = ft.ListView(
            expand=True, spacing=4, reverse=True, padding=8,
            on_scroll=self._scrolled, scroll_interval=100, cache_extent=CACHE_EXTENT,
        )  # fmt: skip
        self.transfers = TransferList(notify)
        self.p2p = P2pTransfers(session, chat_id, downloads, self.transfers, notify)
        self.text = ft.TextField(
            hint_text="Message", expand=True, shift_enter=True, on_submit=self._send_text,
            on_change=self._typed, min_lines=1, max_lines=5,
        )  # fmt: skip
        self.picker = ft.FilePicker()
        self.reply_text = ft.Text("", size=12, italic=True, max_lines=1, expand=True)
        self.reply_bar = ft.Row(
            [
                ft.Icon(ft.Icons.REPLY, size=16),
                self.reply_text,
                ft.IconButton(ft.Icons.CLOSE, tooltip="Cancel reply", on_click=self._cancel_reply),
            ],
            visible=False,
        )
        super().__init__(
            [
                self.presence,
                self.typing,
                self.older,
                self.bubbles,
                self.p2p,
                self.transfers,
                self.reply_bar,
                ft.Row(
                    [
                        ft.IconButton(
                            ft.Icons.ATTACH_FILE, tooltip="Send a file", on_click=self._attach
                        ),
                        self.text,
                        ft.IconButton(ft.Icons.SEND, tooltip="Send", on_click=self._send_text),
                    ]
                ),
            ],
            expand=True,
        )  # fmt: skip

    # Loading and live updates

    async def load(self) -> None:
        client = self._session.client
        self._chat = await client.get_chat(self.chat_id)
        self.title.value = self._chat.title
        self._show_pin_and_mute()
        if (other := self._other_member()) is not None:
            with contextlib.suppress(HyperSendError):
                self._show_presence(await client.presence(other))
        page = await client.messages(self.chat_id, limit=PAGE_SIZE)
        self._messages = {m.id: m for m in page.messages}
        self._oldest = page.messages[0].id if page.messages else None
        self.older.visible = page.has_more
        self._render()
        await self._mark_read()
        with contextlib.suppress(HyperSendError):
            await self.p2p.load(self._chat)

    def _other_member(self) -> str | None:
        """In a direct chat, the other person (whose presence the screen shows)."""
        if self._chat is None:
            return None
        me = self._session.me.id if self._session.me else ""
        return other_member(self._chat, me)

    def _show_presence(self, presence: Presence) -> None:
        self.presence.value = presence_label(presence, utcnow())

    def _show_pin_and_mute(self) -> None:
        """The app bar's title and buttons as the chat is (controls of the app bar, not of
        this screen: shown with it, or updated here once it is)."""
        pinned = bool(self._chat and self._chat.pinned)
        muted = bool(self._chat and self._chat.muted)
        self.pin_button.icon = ft.Icons.PUSH_PIN if pinned else ft.Icons.PUSH_PIN_OUTLINED
        self.pin_button.tooltip = "Unpin chat" if pinned else "Pin chat"
        self.mute_button.icon = (
            ft.Icons.NOTIFICATIONS_OFF if muted else ft.Icons.NOTIFICATIONS_OUTLINED
        )
        self.mute_button.tooltip = "Unmute chat" if muted else "Mute chat"
        for control in (self.title, self.pin_button, self.mute_button):
            with contextlib.suppress(RuntimeError):  # not shown yet: it shows the values then
                control.update()

    async def _toggle_pin(self) -> None:
        if self._chat is not None:
            try:
                self._chat = await self._session.client.pin_chat(
                    self.chat_id, pinned=not self._chat.pinned
                )
            except HyperSendError as exc:
                self._tell_user(str(getattr(exc, "detail", exc)))
            self._show_pin_and_mute()

    async def _toggle_mute(self) -> None:
        if self._chat is not None:
            self._chat = await self._session.client.mute_chat(
                self.chat_id, muted=not self._chat.muted
            )
            self._show_pin_and_mute()

    async def on_event(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        if kind == "transfer.offered":
            await self.p2p.on_event(event)
        if kind in ("message.created", "message.updated", "message.deleted"):
            message = Message.from_json(event["message"])
            if message.chat_id == self.chat_id:
                self._messages[message.id] = message
                self._render()
                await self._mark_read()
        elif kind == "message.read" and event.get("chat_id") == self.chat_id:
            self._chat = await self._session.client.get_chat(self.chat_id)
            self._render()
        elif kind == "presence" and event.get("user_id") == self._other_member():
            self._show_presence(Presence.from_json(event))
            update_if_shown(self)
        elif kind == "typing" and event.get("chat_id") == self.chat_id:
            members = self._chat.members if self._chat else []
            name = next((m.name for m in members if m.id == event.get("user_id")), "Someone")
            self.typing.value = f"{name} is typing…"
            self._typing_until = time.monotonic() + TYPING_SHOWN_SECONDS
            update_if_shown(self)
            self._typing_task = asyncio.ensure_future(self._clear_typing_later())

    async def _clear_typing_later(self) -> None:
        await asyncio.sleep(TYPING_SHOWN_SECONDS)
        if time.monotonic() >= self._typing_until:
            self.typing.value = ""
            update_if_shown(self)

    async def _scrolled(self, event: ft.OnScrollEvent) -> None:
        """Scrolling up to the oldest message shown loads the page before it (the button
        stays, for keyboards and screen readers)."""
        if self.older.visible and event.pixels >= event.max_scroll_extent - EARLIER_PAGE_MARGIN:
            await self._load_older()

    async def _load_older(self) -> None:
        if self._loading_older:
            return
        self._loading_older = True
        try:
            page = await self._session.client.messages(
                self.chat_id, before=self._oldest, limit=PAGE_SIZE
            )
        finally:
            self._loading_older = False
        self._messages.update({m.id: m for m in page.messages})
        if page.messages:
            self._oldest = page.messages[0].id
        self.older.visible = page.has_more
        self._render()

    async def _mark_read(self) -> None:
        if self._messages:
            with contextlib.suppress(HyperSendError):
                await self._session.client.mark_read(max(self._messages))

    # Rendering

    def _render(self) -> None:
        me = self._session.me.id if self._session.me else ""
        now = utcnow()
        controls: list[ft.Control] = []
        last_day = ""
        for message_id in sorted(self._messages):
            message = self._messages[message_id]
            day = day_label(message.created_at, now)
            if day != last_day:
                controls.append(
                    ft.Row(
                        [ft.Chip(label=ft.Text(day, size=12))],
                        alignment=ft.MainAxisAlignment.CENTER,
                    )
                )
                last_day = day
            controls.append(self._bubble(message, mine=message.sender_id == me, me=me))
        controls.reverse()
        self.bubbles.controls = controls
        update_if_shown(self)

    def _bubble(self, message: Message, *, mine: bool, me: str) -> ft.Control:
        """A message's bubble: its quote (a tap shows the message it answers) above its body
        (a tap offers what to do with it). The two are side by side, not one inside the
        other: on the web, a tappable part inside a tappable bubble keeps pointer taps from it."""
        head: list[ft.Control] = []
        if self._chat and self._chat.type == "group" and not mine:
            sender = next((m.name for m in self._chat.members if m.id == message.sender_id), "")
            head.append(ft.Text(sender, size=12, weight=ft.FontWeight.W_600))
        names = {m.id: m.name for m in self._chat.members} if self._chat else {}
        if (quoted := quote_label(message, names)) is not None:
            assert message.reply_to is not None
            head.append(
                ft.Container(
                    ft.Text(
                        quoted, size=12, italic=True, max_lines=1, font_family_fallback=EMOJI_FONTS
                    ),
                    border=ft.Border(left=ft.BorderSide(3, ft.Colors.PRIMARY)),
                    padding=ft.Padding(left=6, right=0, top=0, bottom=0),
                    on_click=functools.partial(self._show_message, message.reply_to.id),
                    tooltip="Show the message it answers",
                )
            )
        parts: list[ft.Control] = []
        if message.deleted:
            parts.append(ft.Text("Message deleted", italic=True))
        elif message.file is not None:
            if message.file.has_thumbnail:
                parts.append(self._preview(message))
            parts.append(
                ft.Row(
                    [
                        ft.Icon(ft.Icons.INSERT_DRIVE_FILE),
                        ft.Text(file_label(message)),
                        ft.IconButton(
                            ft.Icons.DOWNLOAD,
                            tooltip="Download",
                            on_click=functools.partial(self._download, message.id),
                        ),
                    ],
                    tight=True,
                )
            )
        else:
            parts.append(ft.Text(message.text or "", font_family_fallback=EMOJI_FONTS))
        if message.reactions and not message.deleted:
            parts.append(self._reactions(message))
        stamp: list[ft.Control] = [ft.Text(bubble_time(message), size=10)]
        if mine and self._chat is not None:
            read = read_by_others(self._chat, message, me)
            stamp.append(
                ft.Icon(
                    ft.Icons.DONE_ALL if read else ft.Icons.DONE,
                    size=14,
                    tooltip="Read" if read else "Sent",
                )
            )
        parts.append(ft.Row(stamp, spacing=4, tight=True, alignment=ft.MainAxisAlignment.END))
        act = None if message.deleted else functools.partial(self._act_on, message.id)
        body = ft.Container(
            ft.Column(parts, spacing=2, tight=True), on_click=act, on_long_press=act
        )
        bubble = ft.Container(
            ft.Column([*head, body], spacing=2, tight=True),
            bgcolor=ft.Colors.PRIMARY_CONTAINER if mine else ft.Colors.SURFACE_CONTAINER_HIGHEST,
            border_radius=12,
            padding=ft.Padding(left=10, right=10, top=6, bottom=6),
        )
        return ft.Row(
            [ft.Container(bubble, width=None, expand=False)],
            alignment=ft.MainAxisAlignment.END if mine else ft.MainAxisAlignment.START,
            key=ft.ScrollKey(message.id),  # type: ignore[call-arg]
        )  # fmt: skip

    def _reactions(self, message: Message) -> ft.Control:
        """One chip per emoji with its count and, on hover, who; one's own are filled, and a
        tap takes them back (or adds one's own)."""
        names = {m.id: m.name for m in self._chat.members} if self._chat else {}
        return ft.Row(
            [
                ft.Container(
                    ft.Text(reaction_label(r), size=12, font_family_fallback=EMOJI_FONTS),
                    bgcolor=ft.Colors.SECONDARY_CONTAINER if r.mine else None,
                    border=ft.Border.all(1, ft.Colors.OUTLINE_VARIANT),
                    border_radius=10,
                    padding=ft.Padding(left=6, right=6, top=1, bottom=1),
                    on_click=functools.partial(self._react, message.id, r.emoji, not r.mine),
                    tooltip=reaction_who(r, names),
                )
                for r in message.reactions
            ],
            spacing=4,
            wrap=True,
            tight=True,
        )

    def _preview(self, message: Message) -> ft.Control:
        """The image's thumbnail, inline; a tap opens (or downloads) the whole image."""
        assert message.file is not None
        file_id = message.file.id
        if file_id not in self._previews:
            self._previews[file_id] = None
            loading = asyncio.ensure_future(self._load_preview(file_id))
            self._loading.add(loading)
            loading.add_done_callback(self._loading.discard)
        thumbnail = self._previews[file_id]
        image: ft.Control = (
            ft.Image(thumbnail, border_radius=8, semantics_label=f"Picture {message.file.filename}")
            if thumbnail
            else ft.Container(width=160, height=120, bgcolor=ft.Colors.SURFACE_CONTAINER)
        )
        return ft.Container(
            image,
            on_click=functools.partial(self._download, message.id),
            tooltip=f"Open {message.file.filename}",
        )

    async def _load_preview(self, file_id: str) -> None:
        with contextlib.suppress(HyperSendError):
            self._previews[file_id] = await self._session.client.thumbnail(file_id)
            self._render()

    async def _show_message(self, message_id: str) -> None:
        if message_id in self._messages:
            await self.bubbles.scroll_to(scroll_key=message_id, duration=300)

    # Acting on a message

    async def _act_on(self, message_id: str) -> None:
        message = self._messages.get(message_id)
        if message is None or message.deleted or self.page is None:
            return
        me = self._session.me.id if self._session.me else ""
        mine = message.sender_id == me
        self.page.show_dialog(
            actions_dialog(
                self.page,
                MessageActions(
                    react=functools.partial(self._react, message.id, add=True),
                    reply=functools.partial(self._start_reply, message.id),
                    show_answered=(
                        functools.partial(self._show_message, message.reply_to.id)
                        if message.reply_to and message.reply_to.id in self._messages
                        else None
                    ),
                    forward=functools.partial(self._choose_forward, message.id),
                    edit=(
                        functools.partial(self._edit, message.id)
                        if mine and message.kind == "text"
                        else None
                    ),
                    delete=functools.partial(self._confirm_delete, message.id) if mine else None,
                ),
            )
        )

    async def _react(self, message_id: str, emoji: str, add: bool = True) -> None:
        try:
            message = await self._session.client.react(message_id, emoji, remove=not add)
        except HyperSendError as exc:
            self._tell_user(f"No reaction: {getattr(exc, 'detail', exc)}")
            return
        self._messages[message.id] = message
        self._render()

    async def _start_reply(self, message_id: str) -> None:
        self._replying = self._messages[message_id]
        names = {m.id: m.name for m in self._chat.members} if self._chat else {}
        who = names.get(self._replying.sender_id, "Someone")
        self.reply_text.value = f"Replying to {who}: {preview(self._replying)}"
        self.reply_bar.visible = True
        update_if_shown(self)
        await self.text.focus()  # type: ignore[no-untyped-call]

    async def _cancel_reply(self) -> None:
        self._replying = None
        self.reply_bar.visible = False
        update_if_shown(self)

    async def _edit(self, message_id: str) -> None:
        async def save(text: str) -> None:
            try:
                edited = await self._session.client.edit_message(message_id, text)
            except HyperSendError as exc:
                self._tell_user(f"Not edited: {getattr(exc, 'detail', exc)}")
                return
            self._messages[edited.id] = edited
            self._render()

        assert self.page is not None
        self.page.show_dialog(edit_dialog(self.page, self._messages[message_id], save))

    async def _choose_forward(self, message_id: str) -> None:
        async def forward(chat: Chat) -> None:
            try:
                await self._session.client.forward_message(message_id, chat.id)
            except HyperSendError as exc:
                self._tell_user(f"Not forwarded: {getattr(exc, 'detail', exc)}")
                return
            self._tell_user(f"Forwarded to {chat.title}")

        chats = [c for c in await self._session.client.list_chats() if c.id != self.chat_id]
        assert self.page is not None
        self.page.show_dialog(forward_dialog(self.page, chats, forward))

    # Sending

    async def _send_text(self) -> None:
        text = (self.text.value or "").strip()
        if not text:
            return
        self.text.value = ""
        update_if_shown(self)
        replying = self._replying
        try:
            message = await self._session.client.send_message(
                self.chat_id, text, reply_to=replying.id if replying else None
            )
        except HyperSendError as exc:
            self._tell_user(f"Not sent: {getattr(exc, 'detail', exc)}")
            self.text.value = text
            update_if_shown(self)
            return
        self._messages[message.id] = message
        if replying is not None:
            await self._cancel_reply()
        self._render()

    async def _typed(self) -> None:
        await self._send_typing(self.chat_id)

    async def _attach(self) -> None:
        receiver = self.p2p.can_send_to(self._chat) if self._chat else None
        if self._downloads is None:
            self._offer_web_choices()
        elif receiver is not None:
            self._offer_direct_choice(receiver)
        else:
            await self._pick_and_send()

    def _choose(self, text: str, choices: dict[str, Callable[[], Awaitable[None]]]) -> None:
        """Ask how to send a file; the last choice is the usual one."""
        assert self.page is not None
        page = self.page

        def choice(label: str, act: Callable[[], Awaitable[None]], main: bool) -> ft.Control:
            async def chosen() -> None:
                page.pop_dialog()
                await act()

            return (ft.FilledButton if main else ft.TextButton)(label, on_click=chosen)

        labels = list(choices)
        page.show_dialog(
            ft.AlertDialog(
                title=ft.Text("Send a file"),
                content=ft.Text(text),
                actions=[
                    ft.TextButton("Cancel", on_click=lambda _: page.pop_dialog()),
                    *(choice(k, choices[k], k == labels[-1]) for k in labels),
                ],
            )
        )

    def _offer_web_choices(self) -> None:
        """In a browser: small files through the picker, large ones through the upload page
        (the picker holds the whole file in the browser's memory)."""

        async def large() -> None:
            try:
                link = await self._session.client.upload_page_link(self.chat_id)
            except HyperSendError as exc:
                self._tell_user(f"Could not open the upload page: {getattr(exc, 'detail', exc)}")
                return
            await ft.UrlLauncher().launch_url(link)
            self._tell_user("The upload page opened in a new tab; the file appears here when done.")

        self._choose(
            f"Files up to {human_bytes(WEB_PICKER_LIMIT)} go straight from here. Larger ones go"
            " through an upload page that survives dropped connections.",
            {"Large file": large, "Small file": self._pick_and_send},
        )

    def _offer_direct_choice(self, receiver: str) -> None:
        async def directly() -> None:
            files = await self.picker.pick_files(cancel_upload_on_window_blur=False)
            if files and files[0].path:
                await self.p2p.send(receiver, Path(files[0].path))

        self._choose(
            "Upload: kept on the server, resumable, downloaded whenever they like."
            " Directly: streamed to them while both apps are open; nothing is stored on the"
            " server.",
            {"Directly": directly, "Upload": self._pick_and_send},
        )

    async def _pick_and_send(self) -> None:
        web = bool(self.page and self.page.web)
        files = await self.picker.pick_files(with_data=web, cancel_upload_on_window_blur=False)
        if not files:
            return
        picked = files[0]
        if picked.path:  # desktop and Android: stream from disk, resumable
            await self.transfers.run(f"Sending {picked.name}", self._send_path(Path(picked.path)))
            return
        refusal = web_pick_refusal(picked.size)
        if refusal or picked.bytes is None or len(picked.bytes) != picked.size:
            self._tell_user(refusal or "The browser did not hand over the whole file; not sent.")
            return
        folder = Path(tempfile.mkdtemp(prefix="hypersend-"))
        path = folder / Path(picked.name).name
        await asyncio.to_thread(path.write_bytes, picked.bytes)
        try:
            await self.transfers.run(f"Sending {picked.name}", self._send_path(path))
        finally:
            await asyncio.to_thread(path.unlink, missing_ok=True)
            await asyncio.to_thread(folder.rmdir)

    def _send_path(self, path: Path) -> Work:
        async def send(row: TransferRow) -> None:
            message = await self._session.client.send_file(
                self.chat_id, path, progress=row.progress
            )
            self._messages[message.id] = message
            self._render()

        return send

    async def _download(self, message_id: str) -> None:
        message = self._messages[message_id]
        assert message.file is not None
        client = self._session.client
        folder = self._downloads
        if folder is None:  # a browser: it downloads the signed link, resumably
            await ft.UrlLauncher().launch_url(await client.download_link(message.file.id))
            return
        target = folder / Path(message.file.filename).name
        file_id = message.file.id

        async def fetch(row: TransferRow) -> None:
            await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
            await client.download_file(file_id, target, progress=row.progress)
            self._tell_user(f"Saved to {target}")

        await self.transfers.run(f"Downloading {message.file.filename}", fetch)

    # Deleting

    def _close_dialog(self) -> None:
        if self.page is not None:
            self.page.pop_dialog()

    async def _confirm_delete(self, message_id: str) -> None:
        async def delete() -> None:
            assert self.page is not None
            self.page.pop_dialog()
            await self._session.client.delete_message(message_id)

        assert self.page is not None
        self.page.show_dialog(
            ft.AlertDialog(
                title=ft.Text("Delete this message for everyone?"),
                actions=[
                    ft.TextButton(
                        "Cancel", on_click=lambda _: self.page and self.page.pop_dialog()
                    ),
                    ft.FilledButton("Delete", on_click=delete),
                ],
            )
        )
