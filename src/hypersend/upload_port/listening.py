"""Opening the upload port in a server process (every worker opens it: `SO_REUSEPORT`)."""

import asyncio
import socket

from hypersend.auth.service import AuthService
from hypersend.config import Settings
from hypersend.files.service import FileService
from hypersend.upload_port.server import UploadPort

LISTEN_BACKLOG = 1024


async def start_upload_port(
    settings: Settings, auth: AuthService, files: FileService
) -> asyncio.Task[None]:
    """The upload port's listener, serving until the task is cancelled."""
    family = socket.getaddrinfo(settings.host, settings.upload_port, type=socket.SOCK_STREAM)[0][0]
    listener = socket.create_server(
        (settings.host, settings.upload_port),
        family=family,
        backlog=LISTEN_BACKLOG,
        reuse_port=True,
    )
    port = UploadPort(auth, files)

    async def serve() -> None:
        with listener:
            await port.serve(listener)

    return asyncio.create_task(serve())
