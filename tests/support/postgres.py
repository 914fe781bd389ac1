"""Debian's PostgreSQL server on a free loopback port, private to the tests that start it.

`initdb` makes a cluster in a temporary directory and `pg_ctl` starts and stops it, as the
`postgres` user when the tests run as root (PostgreSQL refuses to run as root). Each test
that wants a clean store asks for a database of its own (`new_database`).
"""

import glob
import os
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

import psycopg

from tests.support.server import free_port


def postgres_bin_dir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if not found:
        which = shutil.which("pg_ctl")
        if which is None:
            raise RuntimeError("PostgreSQL is not installed: apt-get install postgresql")
        return Path(which).parent
    return Path(found[-1]).parent


class PostgresProcess:
    """A throwaway PostgreSQL cluster; `restart()` keeps its port and data.

    Commits return before their WAL is flushed (`synchronous_commit=off`), as SQLite's do in
    HyperSend's default mode (WAL, `synchronous=NORMAL`): the last moment's commits may be
    lost on power loss, nothing is corrupted. `crash_safe=False` (the tests) also turns fsync
    off; benchmarks keep it on."""

    def __init__(self, *, crash_safe: bool = False) -> None:
        self.port = free_port()
        self.crash_safe = crash_safe
        self.root = Path(tempfile.mkdtemp(prefix="hypersend-postgres-"))
        self.data = self.root / "data"
        self.log_path = self.root / "postgres.log"
        self._bin = postgres_bin_dir()
        self._as_postgres = os.geteuid() == 0
        self.running = False

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://hypersend@127.0.0.1:{self.port}/{database}"

    def start(self) -> "PostgresProcess":
        if not self.data.exists():
            if self._as_postgres:
                shutil.chown(self.root, "postgres", "postgres")
            self._run(
                "initdb", "-D", str(self.data), "-U", "hypersend", "-A", "trust",
                "-E", "UTF8", "--locale=C.UTF-8", "--no-sync", "--no-instructions",
            )  # fmt: skip
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1"
        options += " -c synchronous_commit=off -c max_connections=200"
        if not self.crash_safe:
            options += " -c fsync=off -c full_page_writes=off"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log_path), "-o", options,
                  "-w", "-t", "60", "start")  # fmt: skip
        self.running = True
        return self

    def stop(self, mode: str = "fast") -> None:
        """`mode`: fast (clients are told and disconnected) or immediate (like a crash)."""
        if self.running:
            self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")
            self.running = False

    def restart(self) -> None:
        self.stop()
        self.start()

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def new_database(self) -> str:
        """A fresh, empty database; its URL."""
        name = f"hypersend_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.url(), autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def _run(self, program: str, *args: str) -> None:
        command = [str(self._bin / program), *args]
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(
                f"{program} failed ({done.returncode}):\n{done.stdout}{done.stderr}\n{self.log()}"
            )
