"""The app stays buildable with `flet build apk`: its `[tool.flet]` settings are the ones Flet
reads, its dependencies are pure Python, and the staged package imports without the server's
stack (FastAPI, pydantic, granian, ...), which Android could not install."""

import runpy
import subprocess
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "app"

SERVER_ONLY = (
    "fastapi",
    "starlette",
    "pydantic",
    "pydantic_settings",
    "granian",
    "pymongo",
    "pwdlib",
    "jwt",
    "argon2",
    "bcrypt",
)

# Run in a fresh interpreter: refuse every server-only import, then load the app's entry
# module's imports from the staged copy.
IMPORT_CHECK = f"""
import importlib.abc, sys

class RefuseServerStack(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {SERVER_ONLY!r}:
            raise ImportError(f"the app must not import {{name}}")
        return None

sys.meta_path.insert(0, RefuseServerStack())
import hypersend, hypersend.ui.main, hypersend.client
assert callable(hypersend.ui.main.main)
print(hypersend.__file__)
"""


def app_project() -> dict[str, object]:
    with (APP / "pyproject.toml").open("rb") as file:
        return tomllib.load(file)


def test_flet_build_settings() -> None:
    project = app_project()
    flet = project["tool"]["flet"]  # type: ignore[index]
    assert flet["org"] == "org.hypersend"
    assert flet["product"] == "HyperSend"
    assert flet["app"]["path"] == "src"
    assert (APP / "src" / "main.py").is_file()
    # Only what the app needs: it talks to its server (no storage-wide permissions).
    assert flet["android"]["permission"] == {"android.permission.INTERNET": True}


def test_dependencies_are_the_pure_python_ones_the_app_uses() -> None:
    dependencies = {
        Requirement(text).name: Requirement(text)
        for text in app_project()["project"]["dependencies"]  # type: ignore[index]
    }
    assert set(dependencies) == {"flet", "httpx", "websockets"}
    with (ROOT / "pyproject.toml").open("rb") as file:
        main_project = tomllib.load(file)
    app_extra = [Requirement(t) for t in main_project["project"]["optional-dependencies"]["app"]]
    flet_pin = next(r for r in app_extra if r.name == "flet")
    assert dependencies["flet"].specifier == flet_pin.specifier  # the Flet the tests drive


def test_the_staged_app_imports_without_the_server(tmp_path: Path) -> None:
    stage = runpy.run_path(str(APP / "stage.py"))["stage"]
    staged: Path = stage(tmp_path / "src" / "hypersend")
    assert not (staged / "server").exists()
    assert not (staged / "storage").exists()
    checked = subprocess.run(
        [sys.executable, "-c", IMPORT_CHECK],
        env={"PYTHONPATH": str(tmp_path / "src"), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.strip() == str(staged / "__init__.py")
