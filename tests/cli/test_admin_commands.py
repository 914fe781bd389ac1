"""`hypersend admin ...` end to end: through the API, and on the data directly."""

import re
import subprocess
from pathlib import Path

from tests.support.accounts import PASSWORD, unique_email
from tests.support.cli import run_cli
from tests.support.server import ServerProcess


def _ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout


def _sign_up(profile: Path, server: str, email: str, *extra: str) -> None:
    _ok(
        run_cli(
            profile,
            "--server",
            server,
            "register",
            email,
            "--name",
            email.split("@")[0],
            *extra,
            "--password-stdin",
            stdin=PASSWORD + "\n",
        )
    )
    _ok(run_cli(profile, "login", email, "--password-stdin", stdin=PASSWORD + "\n"))


def test_admin_manages_invites_and_accounts_through_the_api(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "data", registration_policy=None).start()
    try:
        admin, bob = tmp_path / "admin.json", tmp_path / "bob.json"
        admin_email, bob_email = unique_email("root"), unique_email("bob")
        _sign_up(admin, server.url, admin_email)
        assert "(admin)" in _ok(run_cli(admin, "whoami"))

        code = _ok(run_cli(admin, "admin", "invite", "--uses", "1")).strip()
        assert re.fullmatch(r"[\w-]{16}", code)
        _sign_up(bob, server.url, bob_email, "--invite", code)
        used = next(
            line for line in _ok(run_cli(admin, "admin", "invites")).splitlines() if code in line
        )
        assert "1/1" in used

        listing = _ok(run_cli(admin, "admin", "users"))
        assert admin_email in listing
        assert bob_email in listing

        assert "50.0 MiB" in _ok(run_cli(admin, "admin", "set-quota", bob_email, "50M"))
        assert "unlimited" in _ok(run_cli(admin, "admin", "set-quota", bob_email, "unlimited"))
        bad_size = run_cli(admin, "admin", "set-quota", bob_email, "lots")
        assert bad_size.returncode == 1
        assert "not a size" in bad_size.stderr

        _ok(run_cli(admin, "admin", "disable", bob_email))
        assert run_cli(bob, "whoami").returncode == 1
        _ok(run_cli(admin, "admin", "enable", bob_email))

        reset = _ok(run_cli(admin, "admin", "reset-password", bob_email))
        new_password = reset.split("Password: ")[1].strip()
        _ok(run_cli(bob, "login", bob_email, "--password-stdin", stdin=new_password + "\n"))

        _ok(run_cli(admin, "admin", "promote", bob_email))
        assert "(admin)" in _ok(run_cli(bob, "whoami"))
        _ok(run_cli(admin, "admin", "demote", bob_email))
        refused = run_cli(bob, "admin", "users")
        assert refused.returncode == 1
        assert "Only an admin" in refused.stderr

        _ok(run_cli(admin, "admin", "revoke-invite", code))
        assert code not in _ok(run_cli(admin, "admin", "invites"))
        unknown = run_cli(admin, "admin", "disable", "nobody@example.test")
        assert unknown.returncode == 1
        assert "No account" in unknown.stderr
    finally:
        server.stop()


def test_operator_creates_the_first_account_of_a_closed_server_directly(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    server = ServerProcess(data, registration_policy="closed")
    console = tmp_path / "console.json"  # never signed in: works on the data
    email = unique_email("owner")
    created = run_cli(
        console,
        "admin",
        "create-user",
        email,
        "--name",
        "Owner",
        "--admin",
        "--direct",
        "--data-root",
        str(data),
    )
    output = _ok(created)
    assert "as admin" in output
    password = output.split("Password: ")[1].strip()

    code = _ok(run_cli(console, "admin", "invite", "--data-root", str(data))).strip()
    listing = _ok(run_cli(console, "admin", "users", "--data-root", str(data)))
    assert email in listing
    assert "admin" in listing

    server.start()
    try:
        owner = tmp_path / "owner.json"
        signed_in = run_cli(
            owner, "--server", server.url, "login", email, "--password-stdin", stdin=password + "\n"
        )
        _ok(signed_in)
        assert code in _ok(run_cli(owner, "admin", "invites"))
        refused = run_cli(
            tmp_path / "x.json",
            "--server",
            server.url,
            "register",
            unique_email(),
            "--name",
            "X",
            "--password-stdin",
            stdin=PASSWORD + "\n",
        )
        assert refused.returncode == 1
        assert "closed" in refused.stderr
    finally:
        server.stop()

    short = run_cli(
        console,
        "admin",
        "reset-password",
        email,
        "--password-stdin",
        "--data-root",
        str(data),
        stdin="short\n",
    )
    assert short.returncode == 1
    assert "password" in short.stderr
