import json
import stat
from pathlib import Path

from tests.support.accounts import PASSWORD, unique_email
from tests.support.cli import run_cli
from tests.support.server import ServerProcess


def test_register_login_whoami_logout(server: ServerProcess, tmp_path: Path) -> None:
    profile = tmp_path / "cli.json"
    email = unique_email("cli")
    registered = run_cli(
        profile,
        "--server",
        server.url,
        "register",
        email,
        "--name",
        "Cli User",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    assert registered.returncode == 0, registered.stderr
    assert email in registered.stdout

    logged_in = run_cli(profile, "login", email, "--password-stdin", stdin=PASSWORD + "\n")
    assert logged_in.returncode == 0, logged_in.stderr
    assert "Signed in as Cli User" in logged_in.stdout
    assert stat.S_IMODE(profile.stat().st_mode) == 0o600
    assert json.loads(profile.read_text())["server"] == server.url

    whoami = run_cli(profile, "whoami")
    assert whoami.returncode == 0, whoami.stderr
    assert email in whoami.stdout

    assert run_cli(profile, "logout").returncode == 0
    after = run_cli(profile, "whoami")
    assert after.returncode == 1
    assert "Not signed in" in after.stderr


def test_wrong_password_is_a_clear_error(server: ServerProcess, tmp_path: Path) -> None:
    result = run_cli(
        tmp_path / "cli.json",
        "--server",
        server.url,
        "login",
        unique_email("ghost"),
        "--password-stdin",
        stdin="wrong password\n",
    )
    assert result.returncode == 1
    assert "Wrong email or password" in result.stderr


def test_unreachable_server_is_a_clear_error(tmp_path: Path) -> None:
    result = run_cli(
        tmp_path / "cli.json",
        "--server",
        "http://127.0.0.1:9",
        "login",
        "a@b.c",
        "--password-stdin",
        stdin="whatever1\n",
    )
    assert result.returncode == 1
    assert "could not be reached" in result.stderr


def test_version_server_after_the_command_and_yourself(
    server: ServerProcess, tmp_path: Path
) -> None:
    profile = tmp_path / "cli.json"
    version = run_cli(profile, "--version")
    assert version.returncode == 0
    assert version.stdout.startswith("hypersend ")
    email = unique_email("late")
    registered = run_cli(
        profile,
        "register",
        email,
        "--name",
        "Late Flag",
        "--password-stdin",
        "--server",
        server.url,
        stdin=PASSWORD + "\n",
    )
    assert registered.returncode == 0, registered.stderr
    assert json.loads(profile.read_text())["server"] == server.url
    assert run_cli(profile, "login", email, "--password-stdin", stdin=PASSWORD).returncode == 0
    yourself = run_cli(profile, "dm", email.upper())
    assert yourself.returncode == 1
    assert "is your own account" in yourself.stderr
    assert "Traceback" not in yourself.stderr


def test_an_unusable_profile_is_a_clear_error(tmp_path: Path) -> None:
    """A profile path that is a directory, or a file that is not a profile: one line that
    says which file and why, no traceback."""
    a_directory = tmp_path / "profiles"
    a_directory.mkdir()
    not_a_profile = tmp_path / "notes.json"
    not_a_profile.write_text("[1, 2, 3]")
    for profile in (a_directory, not_a_profile):
        result = run_cli(profile, "whoami")
        assert result.returncode == 1
        assert result.stderr.startswith(f"hypersend: cannot read the profile {profile}: ")
        assert "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
