"""Debian's nginx on loopback, run as a child process with a configuration of the caller's."""

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

STARTUP_TIMEOUT = 10.0


def nginx_binary() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else "")
    if not found:
        raise RuntimeError("nginx is not installed: apt-get install nginx-light")
    return found


class NginxProcess:
    """nginx with `http_config` as the body of its `http { }` block; it listens on `ports`."""

    def __init__(self, root: Path, http_config: str, ports: list[int]) -> None:
        self.root = root
        self.ports = ports
        temp = root / "tmp"
        temp.mkdir(parents=True, exist_ok=True)
        temp.chmod(0o777)  # nginx's workers may run as another user
        self.config = root / "nginx.conf"
        self.config.write_text(
            f"""
daemon off;
{"user root;" if os.geteuid() == 0 else ""}
worker_processes 1;
pid {root}/nginx.pid;
error_log {root}/error.log;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
{http_config}
}}
"""
        )
        self.process: subprocess.Popen[bytes] | None = None

    def check(self) -> None:
        """`nginx -t`: raise with nginx's own words if the configuration is invalid."""
        result = subprocess.run(
            [nginx_binary(), "-t", "-c", str(self.config), "-p", str(self.root)],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(result.stderr)

    def start(self) -> "NginxProcess":
        self.process = subprocess.Popen(
            [nginx_binary(), "-c", str(self.config), "-p", str(self.root)]
        )
        deadline = time.monotonic() + STARTUP_TIMEOUT
        for port in self.ports:
            while not _accepts(port):
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"nginx did not start:\n{self.error_log()}")
                time.sleep(0.05)
        return self

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None

    def error_log(self) -> str:
        log = self.root / "error.log"
        return log.read_text(errors="replace") if log.exists() else ""


def _accepts(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0
