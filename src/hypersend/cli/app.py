"""`hypersend app`: the app in a desktop window, or `--web` in browsers (no CDN needed)."""

import argparse
import os
import sys
from typing import Any

from hypersend.cli.ports import PortTaken, require_free_port


def register(commands: Any) -> None:
    app = commands.add_parser("app", help="run the HyperSend app (desktop window, or --web)")
    app.add_argument("--web", action="store_true", help="serve the web app instead")
    app.add_argument("--host", default="127.0.0.1", help="with --web (default 127.0.0.1)")
    app.add_argument("--port", type=int, default=8550, help="with --web (default 8550)")
    app.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    try:
        import flet as ft
    except ImportError:
        print('hypersend: the app needs Flet: pip install "hypersend[app]"')
        return 2
    from hypersend.ui.main import ASSETS, main

    if args.server:  # the global --server: where the app's API is
        os.environ["API_URL"] = args.server
    if args.web:
        try:
            require_free_port(args.host, args.port)
        except PortTaken as exc:
            print(f"hypersend app: {exc}", file=sys.stderr)
            return 2
        ft.run(
            main,
            view=ft.AppView.WEB_BROWSER if os.environ.get("DISPLAY") else None,
            host=args.host,
            port=args.port,
            no_cdn=True,
            assets_dir=str(ASSETS),
        )
    else:
        ft.run(main)
    return 0
