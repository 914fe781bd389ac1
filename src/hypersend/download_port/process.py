"""Running the download port in a process of its own beside granian's."""

import asyncio
import ctypes
import ctypes.util
import multiprocessing
import signal
import socket
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path

from hypersend.config import Settings
from hypersend.download_port.grants import GrantSigner
from hypersend.download_port.server import DownloadPort

_PR_SET_PDEATHSIG = 1
LISTEN_BACKLOG = 1024
START_TIMEOUT = 30.0
LISTENING = "listening"


class DownloadPortFailed(Exception):
    """The download port could not start; the message says why in one line."""


def start_download_port(settings: Settings) -> BaseProcess:
    """The download port's process, listening; it ends with the process that started it."""
    context = multiprocessing.get_context("spawn")
    said_by_child, to_parent = context.Pipe(duplex=False)
    process = context.Process(
        target=serve_download_port,
        args=(
            settings.host,
            settings.download_port,
            settings.files_dir,
            settings.signing_key,
            to_parent,
        ),
        name="hypersend-download-port",
        daemon=True,
    )
    process.start()
    to_parent.close()
    try:
        said = said_by_child.recv() if said_by_child.poll(START_TIMEOUT) else "no answer"
    except EOFError:
        said = "it exited"
    if said != LISTENING:
        process.terminate()
        process.join()
        raise DownloadPortFailed(f"the download port did not start: {said}")
    return process


def serve_download_port(
    host: str, port: int, files_dir: Path, signing_key: str, parent: Connection
) -> None:
    _end_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the parent
    try:  # ends this one
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        listener = socket.create_server((host, port), family=family, backlog=LISTEN_BACKLOG)
    except OSError as exc:
        parent.send(f"cannot listen on {host}:{port}: {exc.strerror or exc}")
        return
    parent.send(LISTENING)
    parent.close()
    asyncio.run(DownloadPort(files_dir, GrantSigner(signing_key)).serve(listener))


def _end_with_parent() -> None:
    """Linux: SIGTERM this process when its parent dies, even by SIGKILL."""
    libc_name = ctypes.util.find_library("c")
    if libc_name:
        ctypes.CDLL(libc_name).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
