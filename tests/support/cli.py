"""Run the real `hypersend` command in a child process."""

import json
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from tests.support.accounts import PASSWORD, unique_email


def run_cli(
    profile: Path, *args: str, stdin: str = "", timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hypersend", "--profile", str(profile), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def ok(profile: Path, *args: str, stdin: str = "") -> str:
    """Run a command that must succeed; its standard output."""
    result = run_cli(profile, *args, stdin=stdin)
    assert result.returncode == 0, result.stderr
    return result.stdout


def sign_up(server_url: str, profile: Path, name: str, *register_options: str) -> str:
    """Register a new account through the CLI and sign the profile in; its email."""
    email = unique_email(name.split()[0].lower())
    ok(
        profile,
        "--server",
        server_url,
        "register",
        email,
        "--name",
        name,
        *register_options,
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    ok(profile, "login", email, "--password-stdin", stdin=PASSWORD + "\n")
    return email


def start_cli(profile: Path, *args: str) -> subprocess.Popen[str]:
    """Start a long-running command (its output piped) for the test to talk to or wait on."""
    return subprocess.Popen(
        [sys.executable, "-m", "hypersend", "--profile", str(profile), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def interrupt(process: "subprocess.Popen[str]", *, within: float) -> int:
    """Press Ctrl-C (SIGINT) and wait `within` seconds at most for the command to stop;
    its exit code."""
    process.send_signal(signal.SIGINT)
    try:
        return process.wait(timeout=within)
    finally:
        process.kill()
        process.communicate()


class JsonLines:
    """A running command's standard output, read as JSON lines on a thread of its own, so
    that a test waits for a line with a timeout instead of blocking forever."""

    def __init__(self, process: "subprocess.Popen[str]") -> None:
        assert process.stdout is not None
        self._lines: queue.Queue[dict[str, object]] = queue.Queue()
        stdout = process.stdout

        def read() -> None:
            for line in stdout:
                self._lines.put(json.loads(line))

        threading.Thread(target=read, daemon=True).start()

    def next_where(
        self, wanted: Callable[[dict[str, object]], bool], *, within: float
    ) -> dict[str, object]:
        """The next line `wanted` accepts (those before it are passed over)."""
        deadline = time.monotonic() + within
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no such line in {within} s")
            try:
                line = self._lines.get(timeout=left)
            except queue.Empty:
                raise AssertionError(f"no such line in {within} s") from None
            if wanted(line):
                return line


def keep_saying(profile: Path, chat_id: str, until: threading.Event) -> threading.Thread:
    """Say "ping N" in the chat every 0.3 s (30 times at most) until `until` is set."""

    def talk() -> None:
        for attempt in range(30):
            if until.is_set():
                return
            ok(profile, "say", chat_id, f"ping {attempt}")
            time.sleep(0.3)

    talker = threading.Thread(target=talk)
    talker.start()
    return talker
