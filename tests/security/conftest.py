"""The security suite pins the fixes of issue 11 against the real stack on PostgreSQL."""

import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import ROOT, LiveServer, server_environment


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/security/" in str(item.path):
            item.add_marker(pytest.mark.postgresql)


@dataclass
class ServeProcess(LiveServer):
    """`python -m project.serve`, as `make run` starts it, on HOST/PORT from the environment."""

    def start(self, wait_ready: bool = True, timeout: float = 30) -> "ServeProcess":
        from tests.pgcluster import free_port

        self.port = self.port or free_port()
        assert self.output_path is not None
        self.env.update(HOST="127.0.0.1", PORT=str(self.port))
        self.process = subprocess.Popen(
            [sys.executable, "-m", "project.serve"],
            cwd=ROOT,
            env=self.env,
            stdout=self.output_path.open("w"),
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        if wait_ready:
            self.wait_until_up(timeout)
        return self


@pytest.fixture
def serve_factory(tmp_path: Path) -> Iterator[Callable[..., ServeProcess]]:
    """Start `make run`'s server on the test database; stopped before the database is dropped."""
    servers: list[ServeProcess] = []

    def start(**env: str) -> ServeProcess:
        server = ServeProcess(
            env=server_environment(**env), output_path=tmp_path / f"serve-{len(servers)}.log"
        )
        servers.append(server)
        return server.start()

    yield start
    for server in servers:
        server.stop()
