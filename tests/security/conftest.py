"""The security suite pins the fixes of issue 11 against the real stack on PostgreSQL."""

import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import LiveServer, server_environment


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/security/" in str(item.path):
            item.add_marker(pytest.mark.postgresql)


@dataclass
class ServeProcess(LiveServer):
    """`python -m project.serve`, as `make run` starts it, on HOST/PORT from the environment."""

    def command(self) -> list[str]:
        self.env.update(HOST="127.0.0.1", PORT=str(self.port))  # what project.serve reads
        return [sys.executable, "-m", "project.serve"]


@pytest.fixture
def serve_factory(tmp_path: Path) -> Iterator[Callable[..., ServeProcess]]:
    """Start `make run`'s server on the test database; stopped before the database is dropped."""
    servers: list[ServeProcess] = []

    def start(**env: str) -> ServeProcess:
        server = ServeProcess(
            env=server_environment(**env), output_path=tmp_path / f"serve-{len(servers)}.log"
        )
        servers.append(server)
        server.start()
        return server

    yield start
    for server in servers:
        server.stop()
