"""The sign-in and registration screen (with the server's address and, when the server asks
for one, an invite code)."""

from collections.abc import Awaitable, Callable

import flet as ft

from hypersend.client import HyperSendError
from hypersend.ui.session import AppSession


class SignInScreen(ft.Column):
    def __init__(self, session: AppSession, on_signed_in: Callable[[], Awaitable[None]]) -> None:
        self._session = session
        self._on_signed_in = on_signed_in
        self._registering = False
        self.server = ft.TextField(label="Server", value=session.server, dense=True)
        self.email = ft.TextField(label="Email", autofocus=True, on_submit=self._submit)
        self.password = ft.TextField(
            label="Password", password=True, can_reveal_password=True, on_submit=self._submit
        )
        self.name = ft.TextField(label="Your name", visible=False, on_submit=self._submit)
        self.invite = ft.TextField(label="Invite code", visible=False, on_submit=self._submit)
        self.error = ft.Text(color=ft.Colors.ERROR, visible=False)
        self.submit = ft.FilledButton("Sign in", on_click=self._submit, expand=True)
        self.switch = ft.TextButton("No account yet? Create one", on_click=self._toggle)
        super().__init__(
            controls=[
                ft.Text("HyperSend", size=32, weight=ft.FontWeight.BOLD),
                ft.Text("Chat and send files of any size, on your own server."),
                self.email,
                self.password,
                self.name,
                self.invite,
                self.error,
                ft.Row([self.submit]),
                self.switch,
                ft.ExpansionTile(title="Server", controls=[self.server]),
            ],
            spacing=12,
            width=420,
            horizontal_alignment=ft.CrossAxisAlignment.STRETCH,
        )

    async def _toggle(self) -> None:
        self._registering = not self._registering
        self.name.visible = self._registering
        self.submit.content = "Create account" if self._registering else "Sign in"
        self.switch.content = (
            "Have an account? Sign in" if self._registering else "No account yet? Create one"
        )
        self.invite.visible = False
        if self._registering:
            await self._show_invite_field_if_needed()
        self.update()

    async def _show_invite_field_if_needed(self) -> None:
        try:
            await self._use_server()
            self.invite.visible = await self._session.registration_policy() == "invite"
        except HyperSendError as exc:
            self._show_error(exc)

    async def _use_server(self) -> None:
        url = (self.server.value or "").strip()
        if url and url.rstrip("/") != self._session.server:
            await self._session.set_server(url)

    async def _submit(self) -> None:
        self.error.visible = False
        self.submit.disabled = True
        self.update()
        try:
            await self._use_server()
            email, password = (self.email.value or "").strip(), self.password.value or ""
            if self._registering:
                await self._session.register(
                    email, password, (self.name.value or "").strip(), self.invite.value or ""
                )
            else:
                await self._session.sign_in(email, password)
        except HyperSendError as exc:
            self._show_error(exc)
            return
        finally:
            self.submit.disabled = False
            self.update()
        await self._on_signed_in()

    def _show_error(self, error: HyperSendError) -> None:
        detail = getattr(error, "detail", None)
        if isinstance(detail, list):  # validation errors: name the fields
            detail = "; ".join(f"{item['loc'][-1]}: {item['msg']}" for item in detail)
        self.error.value = str(detail or error)
        self.error.visible = True
