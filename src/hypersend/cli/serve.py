"""`hypersend serve`: run the server on granian."""

import argparse
import asyncio
import ctypes
import ctypes.util
import os
import sys
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from hypersend import __version__
from hypersend.cli.ports import PortTaken, require_free_port
from hypersend.cluster.redis_client import RedisUnavailable, connect_redis
from hypersend.config import Settings
from hypersend.download_port.process import DownloadPortFailed, start_download_port
from hypersend.errors import FileStoreUnavailable
from hypersend.files.stores import open_file_store
from hypersend.storage.drivers import missing_driver
from hypersend.storage.errors import StorageUnavailable

# glibc mallopt parameters: keep large receive buffers in the heap instead of mapping and
# unmapping them for every request body (measured: uploads 0.72 -> ~1.3 GB/s).
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3


def register(commands: Any) -> None:
    serve = commands.add_parser("serve", help="run the HyperSend server")
    serve.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (default 8000)")
    serve.add_argument("--data-root", type=Path, help="where data lives (default ./data)")
    serve.add_argument(
        "--download-port",
        type=int,
        help="also send files' bytes with sendfile on this port (standalone; default off)",
    )
    serve.add_argument(
        "--upload-port",
        type=int,
        help="also take upload chunks on this port, a thread each (standalone; default off)",
    )
    serve.add_argument(
        "--workers",
        type=int,
        help="server processes sharing the port (default 1; more than 1 needs REDIS_URL)",
    )
    serve.set_defaults(handler=run)


class CannotServe(Exception):
    """Why the server cannot start, in one line for the operator."""


def run(args: argparse.Namespace) -> int:
    from granian import Granian
    from granian.constants import Interfaces

    overrides = {
        "HOST": args.host,
        "PORT": str(args.port) if args.port is not None else None,
        "DATA_ROOT": str(args.data_root.resolve()) if args.data_root else None,
        "WORKERS": str(args.workers) if args.workers is not None else None,
        "DOWNLOAD_PORT": str(args.download_port) if args.download_port is not None else None,
        "UPLOAD_PORT": str(args.upload_port) if args.upload_port is not None else None,
    }
    # The worker processes build their Settings from the environment, like any ASGI deployment.
    os.environ.update({key: value for key, value in overrides.items() if value is not None})
    try:
        settings = _checked_settings()
    except CannotServe as exc:
        print(f"hypersend serve: {exc}", file=sys.stderr)
        return 2
    _tune_malloc()
    print(_startup_line(settings), flush=True)
    try:
        download_port = start_download_port(settings) if settings.download_port else None
    except DownloadPortFailed as exc:
        print(f"hypersend serve: {exc}", file=sys.stderr)
        return 2
    try:
        Granian(
            "hypersend.main:app",
            address=settings.host,
            port=settings.port,
            interface=Interfaces.ASGI,
            workers=settings.workers,
            # A worker can fail to stop: granian's signal handler, run a second time before
            # the worker serves (systemd and Ctrl-C signal every process, granian signals its
            # workers too), blocks for good. Killed after the grace, a stop always ends.
            workers_kill_timeout=settings.stop_grace_seconds,
            websockets=True,
            log_access=False,
        ).serve()
    finally:
        if download_port is not None:
            download_port.terminate()
            download_port.join()
    return 0


def _checked_settings() -> Settings:
    """The settings, once everything the server needs before it starts is known to be there:
    valid settings, a writable data root, a free port and, when asked for, Redis."""
    try:
        settings = Settings()
    except ValidationError as exc:
        problems = "; ".join(_setting_problem(error) for error in exc.errors())
        raise CannotServe(f"invalid settings: {problems}") from exc
    try:
        settings.data_root.mkdir(parents=True, exist_ok=True)
        if not settings.uses_bucket:
            settings.files_dir.mkdir(exist_ok=True)
    except OSError as exc:
        raise CannotServe(
            f"cannot use the data root {settings.data_root}: {exc.strerror or exc}"
        ) from exc
    if settings.workers > 1 and not settings.uses_redis:
        raise CannotServe(
            f"{settings.workers} workers need REDIS_URL: several processes share events, "
            "caches and leases through Redis (see docs/administration.md)"
        )
    try:
        require_free_port(settings.host, settings.port)
        for extra_port in (settings.download_port, settings.upload_port):
            if extra_port:
                require_free_port(settings.host, extra_port)
    except PortTaken as exc:
        raise CannotServe(str(exc)) from exc
    if settings.uses_redis:
        asyncio.run(_require_redis(settings.redis_url))
    if settings.uses_postgresql:
        _require_postgresql(settings.database_url)
    if settings.uses_bucket:
        asyncio.run(_require_bucket(settings))
    return settings


async def _require_bucket(settings: Settings) -> None:
    store = open_file_store(settings)
    try:
        await store.check()
    except FileStoreUnavailable as exc:
        raise CannotServe(f"cannot use the bucket: {exc.detail}") from exc
    finally:
        await store.close()


def _setting_problem(error: ErrorDetails) -> str:
    """One validation error as "SETTING: what is wrong" (settings that only clash with each
    other, like S3_BUCKET without keys, name themselves in the message)."""
    message = error["msg"].removeprefix("Value error, ")
    setting = ".".join(map(str, error["loc"])).upper()
    return f"{setting}: {message}" if setting else message


def _require_postgresql(url: str) -> None:
    if missing := missing_driver("postgresql"):
        raise CannotServe(f"DATABASE_URL is set but {missing}")
    from hypersend.storage.postgres.database import check_reachable

    try:
        check_reachable(url)
    except StorageUnavailable as exc:
        raise CannotServe(str(exc)) from exc


async def _require_redis(url: str) -> None:
    try:
        client = await connect_redis(url)
    except RedisUnavailable as exc:
        raise CannotServe(str(exc)) from exc
    await client.aclose()


def _startup_line(settings: Settings) -> str:
    database = settings.database_description()
    files = f"bucket {settings.s3_bucket}" if settings.uses_bucket else "files on disk"
    processes = f"{settings.workers} worker" + ("s" if settings.workers > 1 else "")
    if settings.uses_redis:
        processes += " sharing Redis"
    if settings.download_port:
        files += f", sent by sendfile on port {settings.download_port}"
    if settings.upload_port:
        files += f", taken on port {settings.upload_port}"
    return (
        f"HyperSend {__version__} on http://{settings.host}:{settings.port}"
        f" | data root {settings.data_root.resolve()} | database {database} | {files}"
        f" | {processes}"
    )


def _tune_malloc() -> None:
    libc_name = ctypes.util.find_library("c")
    if not libc_name:
        return
    libc = ctypes.CDLL(libc_name)
    if hasattr(libc, "mallopt"):
        libc.mallopt(_M_MMAP_THRESHOLD, 16 * 1024 * 1024)
        libc.mallopt(_M_TRIM_THRESHOLD, 128 * 1024 * 1024)
