from collections.abc import Iterator
from pathlib import Path

import pytest

from hypersend.client import HyperSendClient
from tests.support.redis import RedisProcess
from tests.support.server import ServerProcess


def on(server: ServerProcess, client: HyperSendClient) -> HyperSendClient:
    """The same signed-in session, talking to another process."""
    return HyperSendClient(server.url, tokens=client.tokens)


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisProcess]:
    process = RedisProcess(tmp_path / "redis").start()
    yield process
    process.stop()


class Cluster:
    """Server processes that share one database (one SQLite file), one `DATA_ROOT` and one
    Redis: what a load balancer would spread users over."""

    def __init__(self, root: Path, redis: RedisProcess) -> None:
        self.root = root
        self.redis = redis
        self.servers: list[ServerProcess] = []

    def add(
        self,
        *,
        workers: int = 1,
        env: dict[str, str] | None = None,
        registration_policy: str | None = "open",
    ) -> ServerProcess:
        server = ServerProcess(
            self.root / "data",
            {"REDIS_URL": self.redis.url, **(env or {})},
            name=f"node{len(self.servers)}",
            workers=workers,
            registration_policy=registration_policy,
        )
        self.servers.append(server)
        return server

    def start(
        self,
        count: int,
        *,
        env: dict[str, str] | None = None,
        registration_policy: str | None = "open",
    ) -> list[ServerProcess]:
        """Start `count` processes at once and wait until all serve."""
        started = [
            self.add(env=env, registration_policy=registration_policy).launch()
            for _ in range(count)
        ]
        for server in started:
            server.wait_until_healthy()
        return started

    def stop(self) -> None:
        for server in self.servers:
            server.stop()


@pytest.fixture
def cluster(tmp_path: Path, redis_server: RedisProcess) -> Iterator[Cluster]:
    nodes = Cluster(tmp_path, redis_server)
    yield nodes
    nodes.stop()
