"""What the benchmarks share: a real server, its peak memory, and a timer."""

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.server import ServerProcess

__all__ = ["ServerProcess", "peak_rss_mib", "timed"]


def peak_rss_mib(server: ServerProcess) -> float:
    """The largest peak RSS (VmHWM) among the server's processes, in MiB."""
    assert server.process is not None
    peak = 0
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
        group = Path(status.parent, "stat").read_text().rsplit(")", 1)[1].split()[2]
        if int(group) == server.process.pid and "VmHWM" in fields:
            peak = max(peak, int(fields["VmHWM"].split()[0]))
    return peak / 1024


@contextmanager
def timed() -> Iterator[list[float]]:
    """`with timed() as elapsed:` ... then `elapsed[0]` is the seconds taken."""
    result: list[float] = []
    started = time.perf_counter()
    yield result
    result.append(time.perf_counter() - started)
