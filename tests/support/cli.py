"""Run the real `hypersend` command in a child process."""

import signal
import subprocess
import sys
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
