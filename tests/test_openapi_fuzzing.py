"""Schemathesis against a real server: requests generated from the OpenAPI document (every
check: no 5xx, every status and body as documented, schema-valid input accepted), signed in
and signed out. A bounded number of examples per operation keeps it to a minute or so."""

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from hypersend.client import HyperSendClient
from tests.support.accounts import signed_in
from tests.support.server import ServerProcess

EXAMPLES_PER_OPERATION = 25
ENDS_THE_SESSION = "/auth/logout"  # signed in, the run must keep its token
CONFIG = Path(__file__).with_name("schemathesis.toml")
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def fuzzed_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    bounded = {  # declared upload sizes reserve disk: keep what a fuzzer can take small
        "DEFAULT_USER_QUOTA": str(256 * 1024 * 1024),
        "MAX_UPLOADING_BYTES_PER_USER": str(256 * 1024 * 1024),
    }
    server = ServerProcess(tmp_path_factory.mktemp("fuzzed") / "data", bounded).start()
    yield server
    server.stop()


def schemathesis(server: ServerProcess, *options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable, "-m", "schemathesis.cli", "--config-file", str(CONFIG),
            "run", f"{server.url}/openapi.json",
            "--checks", "all",
            "--max-examples", str(EXAMPLES_PER_OPERATION),
            "--seed", "20261130",
            "--request-timeout", "30",
            "--no-color",
            *options,
        ],
        capture_output=True, text=True, timeout=900, check=False,
        env={**os.environ, "SCHEMATHESIS_HOOKS": "tests.schemathesis_hooks"}, cwd=ROOT,
    )  # fmt: skip


async def test_signed_in_requests_meet_the_document(
    fuzzed_server: ServerProcess, tmp_path: Path
) -> None:
    first: HyperSendClient = await signed_in(fuzzed_server.url, "The Admin")  # admin: not us
    fuzzer = await signed_in(fuzzed_server.url, "Fuzz Tester")
    assert fuzzer.tokens is not None
    token = fuzzer.tokens.access_token
    await first.close()
    await fuzzer.close()
    run = schemathesis(
        fuzzed_server,
        "--header", f"Authorization: Bearer {token}",
        "--exclude-path", ENDS_THE_SESSION,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-20000:]


def test_signed_out_requests_meet_the_document(fuzzed_server: ServerProcess) -> None:
    run = schemathesis(fuzzed_server)
    assert run.returncode == 0, run.stdout[-20000:]


def test_every_route_declares_the_errors_it_may_answer(fuzzed_server: ServerProcess) -> None:
    spec = httpx.get(f"{fuzzed_server.url}/openapi.json").json()
    operations = {
        (method.upper(), path): operation
        for path, methods in spec["paths"].items()
        for method, operation in methods.items()
    }
    for (method, path), operation in operations.items():
        declared = set(operation["responses"])
        assert {"400", "401", "403", "404", "422", "503"} <= declared, (method, path)
        invalid = operation["responses"]["422"]["content"]["application/json"]["schema"]
        assert invalid == {"$ref": "#/components/schemas/ValidationErrorBody"}
    assert "416" in operations["GET", "/files/download/{file_id}"]["responses"]
    for route in (
        ("POST", "/files/upload/start"),
        ("PUT", "/files/upload/chunk/{file_id}"),
        ("POST", "/upload-page/start"),
    ):
        assert "507" in operations[route]["responses"], route
