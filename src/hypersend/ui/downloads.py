"""Where the app puts downloaded files."""

from pathlib import Path

import flet as ft

# Android's shared Downloads folder: apps may create files there without any permission.
ANDROID_DOWNLOADS = Path("/storage/emulated/0/Download")


def downloads_folder(platform: ft.PagePlatform | None) -> Path:
    """Where downloaded files go: the user's Downloads folder on every platform."""
    if platform == ft.PagePlatform.ANDROID:
        return ANDROID_DOWNLOADS
    return Path.home() / "Downloads"
