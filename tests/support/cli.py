"""Run the real `hypersend` command in a child process."""

import subprocess
import sys
from pathlib import Path


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
