"""A one-line progress bar for the terminal: percent, bytes, rate and time left."""

import sys
import time
from typing import TextIO

from hypersend.humanize import human_bytes, human_duration

__all__ = ["ProgressBar", "human_bytes"]


class ProgressBar:
    def __init__(self, label: str, stream: TextIO = sys.stderr, width: int = 24) -> None:
        self._label = label
        self._stream = stream
        self._width = width
        self._started = time.monotonic()
        self._first_done: int | None = None
        self._last_draw = 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if self._first_done is None:
            self._first_done = done
        if done < total and now - self._last_draw < 0.2:
            return
        self._last_draw = now
        fraction = done / total if total else 1.0
        filled = int(fraction * self._width)
        elapsed = max(now - self._started, 1e-6)
        rate = (done - self._first_done) / elapsed
        eta = (total - done) / rate if rate > 0 else 0
        line = (
            f"\r{self._label} [{'#' * filled}{'.' * (self._width - filled)}] {fraction:6.1%}"
            f" {human_bytes(done)}/{human_bytes(total)} {human_bytes(rate)}/s"
            f" ETA {human_duration(eta)}"
        )
        self._stream.write(line)
        if done >= total:
            self._stream.write("\n")
        self._stream.flush()
