"""Running the download port in a process of its own beside granian's."""

import asyncio
import ctypes
import ctypes.util
import multiprocessing
import signal
import socket
from multiprocessing.process import BaseProcess
from pathlib import Path

from hypersend.config import Settings
from hypersend.download_port.grants import GrantSigner
from hypersend.download_port.server import DownloadPort

_PR_SET_PDEATHSIG = 1
LISTEN_BACKLOG = 1024


def start_download_port(settings: Settings) -> BaseProcess:
    """The download port's process, started; it ends with the process that started it."""
    process = multiprocessing.get_context("spawn").Process(
        target=serve_download_port,
        args=(settings.host, settings.download_port, settings.files_dir, settings.signing_key),
        name="hypersend-download-port",
        daemon=True,
    )
    process.start()
    return process


def serve_download_port(host: str, port: int, files_dir: Path, signing_key: str) -> None:
    _end_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the parent
    family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]  # ends this one
    listener = socket.create_server((host, port), family=family, backlog=LISTEN_BACKLOG)
    asyncio.run(DownloadPort(files_dir, GrantSigner(signing_key)).serve(listener))


def _end_with_parent() -> None:
    """Linux: SIGTERM this process when its parent dies, even by SIGKILL."""
    libc_name = ctypes.util.find_library("c")
    if libc_name:
        ctypes.CDLL(libc_name).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
