"""Updating a screen that live events may reach after it has left the page."""

import contextlib

import flet as ft


def update_if_shown(control: ft.BaseControl) -> None:
    """`control.update()`, unless the control is no longer on the page (Flet raises then)."""
    with contextlib.suppress(RuntimeError):
        control.update()
