"""`hypersend serve` and `hypersend app --web` refuse what cannot work in one line, before
starting anything: a taken port, bad settings, workers without Redis, an unreachable Redis."""

import subprocess
import sys

import pytest

from tests.support.server import ServerProcess, free_port


def refused(server: ServerProcess, *arguments: str, **env: str) -> str:
    """What `hypersend ARGUMENTS` says when it refuses (exit code 2, one line, no traceback)."""
    result = subprocess.run(
        [sys.executable, "-m", "hypersend", *arguments],
        env={**server.env, "DATA_ROOT": str(server.data_root), **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    return result.stderr


def test_a_second_server_on_a_taken_port_refuses_to_start(server: ServerProcess) -> None:
    said = refused(server, "serve", "--port", str(server.port))
    assert f"cannot listen on 127.0.0.1:{server.port}" in said
    assert "another server" in said


def test_workers_without_redis_and_an_unreachable_redis_are_refused(
    server: ServerProcess,
) -> None:
    port = str(free_port())
    assert "2 workers need REDIS_URL" in refused(server, "serve", "--port", port, "--workers", "2")
    unreachable = refused(server, "serve", "--port", port, REDIS_URL="redis://127.0.0.1:1/0")
    assert "Cannot reach Redis at REDIS_URL=redis://127.0.0.1:1/0" in unreachable


@pytest.mark.parametrize(
    ("arguments", "says"),
    [
        (["serve", "--port", "70000"], "invalid settings: PORT"),
        (["serve", "--data-root", "/proc/hypersend"], "cannot use the data root"),
    ],
)
def test_serve_refuses_bad_settings_in_one_line(
    server: ServerProcess, arguments: list[str], says: str
) -> None:
    assert says in refused(server, *arguments)


def test_the_web_app_refuses_a_taken_port(server: ServerProcess) -> None:
    said = refused(server, "app", "--web", "--port", str(server.port))
    assert f"cannot listen on 127.0.0.1:{server.port}" in said


def test_an_unreachable_postgresql_is_refused_naming_database_url(server: ServerProcess) -> None:
    port = str(free_port())
    said = refused(
        server, "serve", "--port", port, DATABASE_URL=f"postgresql://hs:pw@127.0.0.1:{port}/hs"
    )
    assert (
        f"cannot reach PostgreSQL at DATABASE_URL=postgresql://hs:***@127.0.0.1:{port}/hs" in said
    )
    assert "pw" not in said.replace("postgresql", "")
    both = refused(
        server, "serve", "--port", port, DATABASE_URL="postgresql://x/y", MONGODB_URI="mongodb://x"
    )
    assert both.strip().endswith(
        "invalid settings: set DATABASE_URL (PostgreSQL) or MONGODB_URI (MongoDB), not both"
    )


def test_settings_that_clash_are_named_in_one_line(server: ServerProcess) -> None:
    said = refused(server, "serve", "--port", str(free_port()), S3_BUCKET="files")
    assert said.strip() == (
        "hypersend serve: invalid settings: S3_BUCKET needs AWS_ACCESS_KEY_ID and"
        " AWS_SECRET_ACCESS_KEY"
    )


def test_a_download_port_that_cannot_work_is_refused(server: ServerProcess) -> None:
    port = str(free_port())
    same = refused(server, "serve", "--port", port, "--download-port", port)
    assert same.strip().endswith("invalid settings: DOWNLOAD_PORT must differ from PORT")
    taken = refused(server, "serve", "--port", port, "--download-port", str(server.port))
    assert f"cannot listen on 127.0.0.1:{server.port}" in taken
    bucket = refused(
        server,
        "serve",
        "--port",
        port,
        "--download-port",
        str(free_port()),
        S3_BUCKET="files",
        AWS_ACCESS_KEY_ID="key",
        AWS_SECRET_ACCESS_KEY="secret",
        CHUNK_SIZE=str(8 * 1024 * 1024),
    )
    assert "DOWNLOAD_PORT sends files on disk; with S3_BUCKET, S3_PRESIGNED_DOWNLOADS" in bucket


def test_an_upload_port_that_cannot_work_is_refused(server: ServerProcess) -> None:
    port, other = str(free_port()), str(free_port())
    same = refused(server, "serve", "--port", port, "--upload-port", port)
    assert "UPLOAD_PORT must differ from PORT and DOWNLOAD_PORT" in same
    shared = refused(
        server, "serve", "--port", port, "--download-port", other, "--upload-port", other
    )
    assert "UPLOAD_PORT must differ from PORT and DOWNLOAD_PORT" in shared
    taken = refused(server, "serve", "--port", port, "--upload-port", str(server.port))
    assert f"cannot listen on 127.0.0.1:{server.port}" in taken
    bucket = refused(
        server,
        "serve",
        "--port",
        port,
        "--upload-port",
        other,
        S3_BUCKET="files",
        AWS_ACCESS_KEY_ID="key",
        AWS_SECRET_ACCESS_KEY="secret",
        CHUNK_SIZE=str(8 * 1024 * 1024),
    )
    assert "UPLOAD_PORT takes chunks to files on disk, not to S3_BUCKET" in bucket
