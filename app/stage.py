"""Put the app's own modules beside `app/src/main.py`, for `flet build` (`make apk` runs it).

Only what the app imports goes into the package: `hypersend.client`, `hypersend.ui` and the
small helpers they use; never the server, whose dependencies are not pure Python.
"""

import shutil
import sys
from pathlib import Path

APP_MODULES = ("__init__.py", "clock.py", "content_hash.py", "humanize.py", "client", "ui")

HERE = Path(__file__).resolve().parent
SOURCE = HERE.parent / "src" / "hypersend"


def stage(destination: Path = HERE / "src" / "hypersend", source: Path = SOURCE) -> Path:
    """Copy the app's modules into `destination` (replacing an earlier copy)."""
    shutil.rmtree(destination, ignore_errors=True)
    destination.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in APP_MODULES:
        if (source / name).is_dir():
            shutil.copytree(source / name, destination / name, ignore=ignore)
        else:
            shutil.copy2(source / name, destination / name)
    return destination


if __name__ == "__main__":
    print(f"Staged the app's modules in {stage()}", file=sys.stderr)
