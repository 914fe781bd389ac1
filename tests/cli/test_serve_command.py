"""`hypersend serve` and `hypersend app --web` refuse what cannot work in one line, before
starting anything: a taken port, bad settings, workers without Redis, an unreachable Redis."""

import subprocess
import sys

import pytest

from tests.support.server import ServerProcess, free_port


def test_a_second_server_on_a_taken_port_refuses_to_start(server: ServerProcess) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "hypersend", "serve", "--port", str(server.port)],
        env={**server.env, "DATA_ROOT": str(server.data_root)},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert f"cannot listen on 127.0.0.1:{server.port}" in result.stderr
    assert "another server" in result.stderr
    assert "Traceback" not in result.stderr


def test_workers_without_redis_and_an_unreachable_redis_are_refused(
    server: ServerProcess,
) -> None:
    def serve(*arguments: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "hypersend", "serve", "--port", str(free_port()), *arguments],
            env={**server.env, "DATA_ROOT": str(server.data_root), **env},
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )

    many = serve("--workers", "2")
    assert many.returncode == 2
    assert "2 workers need REDIS_URL" in many.stderr
    unreachable = serve(REDIS_URL="redis://127.0.0.1:1/0")
    assert unreachable.returncode == 2
    assert "Cannot reach Redis at REDIS_URL=redis://127.0.0.1:1/0" in unreachable.stderr
    assert "Traceback" not in many.stderr + unreachable.stderr


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
    result = subprocess.run(
        [sys.executable, "-m", "hypersend", *arguments],
        env=server.env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert says in result.stderr
    assert "Traceback" not in result.stderr


def test_the_web_app_refuses_a_taken_port(server: ServerProcess) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "hypersend", "app", "--web", "--port", str(server.port)],
        env=server.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert f"cannot listen on 127.0.0.1:{server.port}" in result.stderr
    assert "Traceback" not in result.stderr
