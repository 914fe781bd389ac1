"""`hypersend admin ...` end to end: through the API, and on the data directly."""

import re
from pathlib import Path

from tests.support.accounts import PASSWORD, unique_email
from tests.support.cli import ok, run_cli, sign_up
from tests.support.server import ServerProcess


def test_admin_manages_invites_and_accounts_through_the_api(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "data", registration_policy=None).start()
    try:
        admin, bob = tmp_path / "admin.json", tmp_path / "bob.json"
        admin_email = sign_up(server.url, admin, "Root Admin")
        assert "(admin)" in ok(admin, "whoami")

        code = ok(admin, "admin", "invite", "--uses", "1").strip()
        assert re.fullmatch(r"[\w-]{16}", code)
        bob_email = sign_up(server.url, bob, "Bob Invited", "--invite", code)
        used = next(line for line in ok(admin, "admin", "invites").splitlines() if code in line)
        assert "1/1" in used

        listing = ok(admin, "admin", "users")
        assert admin_email in listing
        assert bob_email in listing

        assert "50.0 MiB" in ok(admin, "admin", "set-quota", bob_email, "50M")
        assert "unlimited" in ok(admin, "admin", "set-quota", bob_email, "unlimited")
        bad_size = run_cli(admin, "admin", "set-quota", bob_email, "lots")
        assert bad_size.returncode == 1
        assert "not a size" in bad_size.stderr

        ok(admin, "admin", "disable", bob_email)
        assert run_cli(bob, "whoami").returncode == 1
        ok(admin, "admin", "enable", bob_email)

        reset = ok(admin, "admin", "reset-password", bob_email)
        new_password = reset.split("Password: ")[1].strip()
        ok(bob, "login", bob_email, "--password-stdin", stdin=new_password + "\n")

        ok(admin, "admin", "promote", bob_email)
        assert "(admin)" in ok(bob, "whoami")
        ok(admin, "admin", "demote", bob_email)
        refused = run_cli(bob, "admin", "users")
        assert refused.returncode == 1
        assert "Only an admin" in refused.stderr

        ok(admin, "admin", "revoke-invite", code)
        assert code not in ok(admin, "admin", "invites")
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
    output = ok(
        console, "admin", "create-user", email, "--name", "Owner", "--admin", "--local",
        "--data-root", str(data),
    )  # fmt: skip
    assert "as admin" in output
    password = output.split("Password: ")[1].strip()

    code = ok(console, "admin", "invite", "--data-root", str(data)).strip()
    signed_out = run_cli(console, "admin", "users", "--data-root", str(data))
    assert f"Not signed in: acting on the local data folder {data}" in signed_out.stderr
    listing = signed_out.stdout
    assert email in listing
    assert "admin" in listing

    server.start()
    try:
        owner = tmp_path / "owner.json"
        ok(owner, "--server", server.url, "login", email, "--password-stdin", stdin=password + "\n")
        assert code in ok(owner, "admin", "invites")
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
