"""A real HyperSend server in a child process, on a free loopback port."""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx

STARTUP_TIMEOUT = 30.0
TEST_CHUNK_SIZE = 64 * 1024


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _mongodb_settings() -> dict[str, str]:
    """With `HYPERSEND_TEST_MONGODB_URI` set, each server gets a fresh database on it."""
    uri = os.environ.get("HYPERSEND_TEST_MONGODB_URI", "")
    if not uri:
        return {}
    return {"MONGODB_URI": uri, "MONGODB_DATABASE": f"hypersend_test_{uuid.uuid4().hex[:12]}"}


class ServerProcess:
    """`hypersend serve` exactly as a user runs it, with settings passed through the environment."""

    def __init__(
        self,
        data_root: Path,
        env: dict[str, str] | None = None,
        *,
        registration_policy: str | None = "open",
        name: str | None = None,
        workers: int = 1,
    ) -> None:
        """`registration_policy=None` leaves it unset: first account admin, then invite-only.
        Several servers may share one `data_root` (and so one database) under other `name`s."""
        self.data_root = data_root
        self.workers = workers
        self.port = free_port()
        self.env = {
            **{key: value for key, value in os.environ.items() if key != "REGISTRATION_POLICY"},
            **({"REGISTRATION_POLICY": registration_policy} if registration_policy else {}),
            **_mongodb_settings(),
            "DURABLE_UPLOADS": "false",
            "MIN_FREE_DISK_BYTES": "0",
            "CHUNK_SIZE": str(TEST_CHUNK_SIZE),
            "STOP_GRACE_SECONDS": "10",  # well within `stop`'s wait
            **(env or {}),
        }
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = data_root.parent / f"{name or data_root.name}-server.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "ServerProcess":
        self.launch()
        self.wait_until_healthy()
        return self

    def launch(self) -> "ServerProcess":
        """Start the process without waiting for it to serve."""
        self.data_root.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "hypersend",
                "serve",
                "--port",
                str(self.port),
                "--data-root",
                str(self.data_root),
                "--workers",
                str(self.workers),
            ],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self

    def stop(self) -> None:
        """Shut down gracefully, as Ctrl-C or `docker stop` would."""
        self._signal_group(signal.SIGTERM)

    def kill(self) -> None:
        """`kill -9` the server and its worker: no shutdown code runs."""
        self._signal_group(signal.SIGKILL)

    def restart(self) -> None:
        self.stop()
        self.start()

    def process_stats(self) -> dict[int, list[str]]:
        """`/proc/PID/stat` of the server's processes (granian's main process and worker) by
        PID, as the fields after the command name: [2] process group, [11] utime, [12] stime,
        [21] RSS in pages."""
        assert self.process is not None
        found = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == self.process.pid:  # the process group
                found[int(stat.parent.name)] = fields
        return found

    def rss_bytes(self) -> int:
        """Resident memory of the server's processes."""
        page = os.sysconf("SC_PAGE_SIZE")
        return sum(int(fields[21]) * page for fields in self.process_stats().values())

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def holds_file(self, file_id: str) -> bool:
        """Whether the server's file store keeps anything of the file (finished or not)."""
        if "S3_BUCKET" in self.env:
            from tests.support.s3 import bucket_holds

            return bucket_holds(self.env, file_id)
        return self.disk_path(file_id).exists()

    def stored_bytes(self, file_id: str) -> bytes:
        """A finished file's bytes, read straight from the server's file store."""
        if "S3_BUCKET" in self.env:
            from tests.support.s3 import bucket_bytes

            return bucket_bytes(self.env, file_id)
        return self.disk_path(file_id).read_bytes()

    def disk_path(self, file_id: str) -> Path:
        return self.data_root / "files" / file_id[-2:] / file_id

    def stored_files(self) -> list[Path]:
        """Every file under `DATA_ROOT/files` (uploads; never P2P bytes)."""
        return [path for path in (self.data_root / "files").rglob("*") if path.is_file()]

    def _signal_group(self, sig: signal.Signals) -> None:
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, sig)
        self.process.wait(timeout=30)
        self.process = None

    def wait_until_healthy(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        assert self.process is not None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.stop()
                raise RuntimeError(f"server exited early:\n{self.log()}")
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"server did not become healthy:\n{self.log()}")
