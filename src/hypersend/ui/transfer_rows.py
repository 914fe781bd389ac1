"""Uploads and downloads under way in a chat, each a row with progress and a cancel button."""

import asyncio
import time
from collections.abc import Awaitable, Callable

import flet as ft

from hypersend.client import HyperSendError
from hypersend.ui.presenters import transfer_status
from hypersend.ui.shown import update_if_shown


class TransferRow(ft.Column):
    """A progress bar with rate and time left, and a cancel button, for one upload or download."""

    def __init__(self, label: str, on_cancel: Callable[[], None]) -> None:
        self._started = time.monotonic()
        self.bar = ft.ProgressBar(value=0)
        self.status = ft.Text(label, size=12)
        super().__init__(
            [
                ft.Row(
                    [self.status, ft.IconButton(ft.Icons.CLOSE, on_click=on_cancel)],
                    alignment=ft.MainAxisAlignment.SPACE_BETWEEN,
                ),
                self.bar,
            ],
            spacing=0,
        )

    def progress(self, done: int, total: int) -> None:
        rate = done / max(time.monotonic() - self._started, 1e-3)
        self.bar.value = done / total if total else 1
        self.status.value = transfer_status(done, total, rate)
        update_if_shown(self)


Work = Callable[[TransferRow], Awaitable[None]]


class TransferList(ft.Column):
    def __init__(self, notify: Callable[[str], None]) -> None:
        super().__init__(spacing=4)
        self._tell_user = notify

    async def run(self, label: str, work: Work) -> None:
        """Show a row for `work` while it runs; its cancel button stops it."""
        task: asyncio.Task[None] | None = None

        def cancel() -> None:
            if task is not None:
                task.cancel()

        row = TransferRow(label, cancel)
        self.controls.append(row)
        update_if_shown(self)
        task = asyncio.ensure_future(work(row))
        try:
            await task
        except asyncio.CancelledError:
            self._tell_user("Stopped; send or download it again to resume where it stopped.")
        except HyperSendError as exc:
            self._tell_user(f"Failed: {getattr(exc, 'detail', exc)}")
        finally:
            self.controls.remove(row)
            update_if_shown(self)
