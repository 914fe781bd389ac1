"""Direct (P2P) transfers in a chat: the open offers, receiving or declining one, and sending
a file straight to the other person through the server's relay (never stored on it)."""

import asyncio
import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import flet as ft

from hypersend.client import Chat, HyperSendError
from hypersend.ui.presenters import offer_label, other_member
from hypersend.ui.session import AppSession
from hypersend.ui.shown import update_if_shown
from hypersend.ui.transfer_rows import TransferList, TransferRow


class P2pTransfers(ft.Column):
    """`downloads`: where received files go; None where the app cannot receive (browsers)."""

    def __init__(
        self,
        session: AppSession,
        chat_id: str,
        downloads: Path | None,
        transfers: TransferList,
        notify: Callable[[str], None],
    ) -> None:
        super().__init__(spacing=4)
        self._session = session
        self._chat_id = chat_id
        self._downloads = downloads
        self._transfers = transfers
        self._tell_user = notify
        self._chat: Chat | None = None

    @property
    def _me(self) -> str:
        return self._session.me.id if self._session.me else ""

    def can_send_to(self, chat: Chat) -> str | None:
        """Whom a P2P transfer from this chat goes to (None: not possible here)."""
        return other_member(chat, self._me) if self._downloads is not None else None

    async def load(self, chat: Chat) -> None:
        self._chat = chat
        offers = await self._session.client.transfers(chat_id=self._chat_id, open_only=True)
        self.controls = [self._offer_row(offer, chat) for offer in offers]
        update_if_shown(self)

    async def on_event(self, event: dict[str, Any]) -> None:
        transfer = event.get("transfer") or {}
        if event.get("type") == "transfer.offered" and transfer.get("chat_id") == self._chat_id:
            await self._reload()

    async def send(self, receiver_id: str, path: Path) -> None:
        """Offer `path` to the receiver and stream it as soon as they accept."""
        client = self._session.client
        offer = await client.offer_transfer(receiver_id, path, chat_id=self._chat_id)

        async def stream(row: TransferRow) -> None:
            await client.send_transfer(offer["transfer_id"], path, progress=row.progress)
            self._tell_user(f"{path.name} was delivered directly")

        await self._transfers.run(f"Sending {path.name} directly", stream)
        await self._reload()

    def _offer_row(self, offer: dict[str, Any], chat: Chat) -> ft.Control:
        incoming = offer["receiver_id"] == self._me
        transfer_id = offer["transfer_id"]
        actions: list[ft.Control] = []
        if incoming and self._downloads is not None:
            actions.append(
                ft.FilledButton("Receive", on_click=functools.partial(self._receive, offer))
            )
        actions.append(
            ft.TextButton(
                "Decline" if incoming else "Cancel",
                on_click=functools.partial(self._cancel, transfer_id),
            )
        )
        lines: list[ft.Control] = [ft.Text(offer_label(offer, chat, self._me))]
        if incoming and self._downloads is None:
            lines.append(
                ft.Text(
                    "Receive it in the desktop or Android app, or with"
                    f" `hypersend p2p receive {transfer_id}`.",
                    size=12,
                )
            )
        return ft.Container(
            ft.Column(
                [
                    ft.Row([ft.Icon(ft.Icons.SWAP_HORIZ), ft.Column(lines, expand=True)]),
                    ft.Row(actions, alignment=ft.MainAxisAlignment.END),
                ],
                spacing=2,
                tight=True,
            ),
            data=transfer_id,
            bgcolor=ft.Colors.SECONDARY_CONTAINER,
            border_radius=12,
            padding=8,
        )

    async def _receive(self, offer: dict[str, Any]) -> None:
        assert self._downloads is not None
        folder, client = self._downloads, self._session.client

        async def fetch(row: TransferRow) -> None:
            await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
            saved = await client.receive_transfer(
                offer["transfer_id"], folder, progress=row.progress
            )
            self._tell_user(f"Saved to {saved}")

        self.controls = [c for c in self.controls if c.data != offer["transfer_id"]]
        await self._transfers.run(f"Receiving {offer['filename']} directly", fetch)
        await self._reload()

    async def _cancel(self, transfer_id: str) -> None:
        try:
            await self._session.client.cancel_transfer(transfer_id)
        except HyperSendError as exc:
            self._tell_user(f"Could not cancel: {getattr(exc, 'detail', exc)}")
        await self._reload()

    async def _reload(self) -> None:
        if self._chat is not None:
            await self.load(self._chat)
