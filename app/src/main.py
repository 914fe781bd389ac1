"""The entry point `flet build` packages: the same app as `hypersend app`."""

import flet as ft

from hypersend.ui.main import main

ft.run(main)
