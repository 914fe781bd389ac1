"""Failed-login throttling per account and per client address (in this process's memory)."""

import math
import time
from collections import deque


class FailureWindow:
    """Counts failures per key in a sliding window and says how long a key must wait."""

    def __init__(self, limit: int, window_seconds: float) -> None:
        self._limit = limit
        self._window = window_seconds
        self._failures: dict[str, deque[float]] = {}

    def retry_after(self, key: str) -> int:
        """Seconds until `key` may try again; 0 when it may try now."""
        failures = self._prune(key, time.monotonic())
        if len(failures) < self._limit:
            return 0
        return math.ceil(failures[0] + self._window - time.monotonic())

    def record(self, key: str) -> None:
        now = time.monotonic()
        self._prune(key, now).append(now)

    def clear(self, key: str) -> None:
        self._failures.pop(key, None)

    def _prune(self, key: str, now: float) -> deque[float]:
        failures = self._failures.setdefault(key, deque())
        while failures and failures[0] <= now - self._window:
            failures.popleft()
        if len(self._failures) > 100_000:
            self._drop_idle(now)
        return failures

    def _drop_idle(self, now: float) -> None:
        idle = [k for k, v in self._failures.items() if not v or v[-1] <= now - self._window]
        for key in idle:
            del self._failures[key]


class LoginThrottle:
    def __init__(self, per_account: int, per_client: int, window_seconds: float) -> None:
        self._accounts = FailureWindow(per_account, window_seconds)
        self._clients = FailureWindow(per_client, window_seconds)

    def retry_after(self, email: str, client: str) -> int:
        return max(self._accounts.retry_after(email), self._clients.retry_after(client))

    def record_failure(self, email: str, client: str) -> None:
        self._accounts.record(email)
        self._clients.record(client)

    def record_success(self, email: str) -> None:
        self._accounts.clear(email)
