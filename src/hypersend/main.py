"""The ASGI app for any ASGI server: `granian --interface asgi hypersend.main:app`."""

from hypersend.app import create_app

app = create_app()
