"""Settings: who is signed in, on which server, whether others see one's presence, where
downloads go; signing out."""

from collections.abc import Awaitable, Callable
from pathlib import Path

import flet as ft

from hypersend import __version__
from hypersend.ui.presenters import initials
from hypersend.ui.session import AppSession


class SettingsScreen(ft.Column):
    def __init__(
        self,
        session: AppSession,
        downloads: Path | None,
        on_sign_out: Callable[[], Awaitable[None]],
    ) -> None:
        me = session.me
        name = me.name if me else ""
        account = f"{me.email}{' · admin' if me.is_admin else ''}" if me else ""
        rows = [
            ft.ListTile(
                leading=ft.CircleAvatar(content=ft.Text(initials(name))),
                title=ft.Text(name),
                subtitle=ft.Text(account),
            ),
            ft.ListTile(
                leading=ft.Icon(ft.Icons.DNS),
                title=ft.Text("Server"),
                subtitle=ft.Text(session.server),
            ),
        ]

        async def presence_changed(event: ft.Event[ft.Switch]) -> None:
            await session.client.hide_presence(not event.control.value)

        rows.append(
            ft.ListTile(
                leading=ft.Icon(ft.Icons.VISIBILITY),
                title=ft.Text("Show when I'm online"),
                subtitle=ft.Text("Off: nobody sees when you are online or were last seen"),
                trailing=ft.Switch(
                    value=not (me and me.presence_hidden),
                    on_change=presence_changed,
                    tooltip="Show when I'm online",
                ),
            )
        )
        if downloads is not None:  # the browser keeps its own downloads
            rows.append(
                ft.ListTile(
                    leading=ft.Icon(ft.Icons.DOWNLOAD),
                    title=ft.Text("Downloads"),
                    subtitle=ft.Text(str(downloads)),
                )
            )
        rows.append(
            ft.ListTile(
                leading=ft.Icon(ft.Icons.INFO_OUTLINE),
                title=ft.Text("HyperSend"),
                subtitle=ft.Text(f"version {__version__}"),
            )
        )
        super().__init__(
            [
                *rows,
                ft.Container(
                    ft.FilledTonalButton("Sign out", icon=ft.Icons.LOGOUT, on_click=on_sign_out),
                    padding=ft.Padding.symmetric(horizontal=16, vertical=8),
                ),
                ft.Container(
                    ft.Text(
                        "To use another server, sign out and change it under Server on the"
                        " sign-in screen.",
                        size=12,
                    ),
                    padding=ft.Padding.symmetric(horizontal=16),
                ),
            ],
            scroll=ft.ScrollMode.AUTO,
            expand=True,
        )
