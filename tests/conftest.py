"""Shared fixtures: an HTTP client on the real ASGI app, a live uvicorn server, user factories."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from django.conf import settings
from django.db import connection

from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.postgres_plugin import running_in_ci

ROOT = Path(__file__).resolve().parent.parent
# The fixtures that start a server process; a test using any of them is `live` (pyproject.toml).
LIVE_FIXTURES = {"live_server_factory", "serve_factory", "module_live_server", "redis_url"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark `live` every test that starts a server through a fixture, whatever its module says,
    so that `-m live` and `-m "not live"` select by what a test does."""
    for item in items:
        if LIVE_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.live)


@pytest.fixture(scope="session", autouse=True)
def database_pool_closed_at_exit(django_db_setup, django_db_blocker) -> Iterator[None]:
    """Close the connection pool before pytest-django drops the test database."""
    yield
    from django.db import connections

    with django_db_blocker.unblock():
        connection = connections["default"]
        connection.close()
        close_pool = getattr(connection, "close_pool", None)
        if close_pool is not None:
            close_pool()
        if connection.vendor == "postgresql":
            # Async tests leave connections checked out on asgiref's worker thread, which the
            # pool does not close: end every session on the test database from outside it.
            import psycopg

            params = connection.get_connection_params()
            params.pop("cursor_factory", None)
            database = params.pop("dbname")
            with psycopg.connect(**{**params, "dbname": "postgres"}, autocommit=True) as admin:
                admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = %s AND pid <> pg_backend_pid()",
                    [database],
                )


@pytest.fixture
async def api() -> AsyncIterator[httpx.AsyncClient]:
    """The full stack in process: project.asgi.application (ASGI wrapper, middleware, ninja)."""
    from project.asgi import application

    transport = httpx.ASGITransport(app=application, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
        yield client


@pytest.fixture
def users() -> UserFactory:
    return UserFactory()


@pytest.fixture
def password() -> str:
    return DEFAULT_PASSWORD


def subprocess_database_url() -> str:
    """A URL for the database pytest-django created, for servers started in subprocesses."""
    database = settings.DATABASES["default"]
    if connection.vendor == "sqlite":
        return f"sqlite:///{database['NAME']}"
    from urllib.parse import quote

    return (
        f"postgresql://{quote(database['USER'])}:{quote(database['PASSWORD'])}"
        f"@{database['HOST']}:{database['PORT']}/{database['NAME']}"
    )


@dataclass
class LiveServer:
    """A uvicorn subprocess serving project.asgi:application."""

    env: dict[str, str]
    args: list[str] = field(default_factory=list)
    port: int = 0
    process: subprocess.Popen[str] | None = None
    output_path: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "uvicorn",
            "project.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--no-proxy-headers",
            *self.args,
        ]

    def start(self, wait_ready: bool = True, timeout: float = 30) -> "LiveServer":
        from tests.support.pgcluster import free_port

        self.port = self.port or free_port()
        assert self.output_path is not None
        self.process = subprocess.Popen(
            self.command(),
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

    def wait_until_up(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssertionError(f"server exited early:\n{self.output()}")
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"server did not come up in {timeout} s:\n{self.output()}")

    def output(self) -> str:
        return self.output_path.read_text() if self.output_path else ""

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


@dataclass
class ServeProcess(LiveServer):
    """`python -m server.serve`, as `make run` starts it, on HOST/PORT from the environment."""

    def command(self) -> list[str]:
        self.env.update(HOST="127.0.0.1", PORT=str(self.port))  # what server.serve reads
        return [sys.executable, "-m", "server.serve"]


def server_environment(**overrides: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DATABASE_URL", "DJANGO_"))
    }
    env.update(
        ENVIRONMENT="test",
        DJANGO_SETTINGS_MODULE="tests.settings",
        TEST_SERVER_DATABASE_URL=subprocess_database_url(),
        PYTHONUNBUFFERED="1",
    )
    env.update(overrides)
    return env


def started_servers[Server: LiveServer](
    kind: type[Server], logs: Path, name: str
) -> Iterator[Callable[..., Server]]:
    """Start `kind` subprocesses on the test database, logging to `logs`; every one is stopped
    afterwards (before pytest-django drops the database, which fails while pooled connections
    are open)."""
    servers: list[Server] = []

    def start(*args: str, wait_ready: bool = True, timeout: float = 30, **env: str) -> Server:
        server = kind(
            env=server_environment(**env),
            args=list(args),
            output_path=logs / f"{name}-{len(servers)}.log",
        )
        servers.append(server)
        server.start(wait_ready=wait_ready, timeout=timeout)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def live_server_factory(tmp_path: Path) -> Iterator[Callable[..., LiveServer]]:
    """Start uvicorn subprocesses on the test database; every one is stopped after the test."""
    yield from started_servers(LiveServer, tmp_path, "server")


@pytest.fixture
def serve_factory(tmp_path: Path) -> Iterator[Callable[..., ServeProcess]]:
    """Start `make run`'s server on the test database; stopped before the database is dropped."""
    yield from started_servers(ServeProcess, tmp_path, "serve")


def missing_tool(what: str) -> None:
    """Skip the test when a tool is absent, but fail under CI=true (.ci/run installs it)."""
    if running_in_ci():
        pytest.fail(f"CI=true: {what} is not installed (.ci/run installs it)")
    pytest.skip(f"{what} is not installed")


@pytest.fixture(scope="module")
def module_live_server(
    request: pytest.FixtureRequest,
    django_db_setup: None,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[..., LiveServer]]:
    """Like live_server_factory, but the servers live for the whole module (a start costs a
    second or two). Tests still mark themselves django_db(transaction=True), so each one leaves
    the database flushed; every server is stopped at the end of the module, long before
    pytest-django drops the test database."""
    if not server_environment()["TEST_SERVER_DATABASE_URL"].startswith("postgres"):
        missing_tool("PostgreSQL")
    logs = tmp_path_factory.mktemp(request.module.__name__.rsplit(".", 1)[-1])
    yield from started_servers(LiveServer, logs, "server")


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    """A throwaway redis-server on loopback; skipped without one (a failure under CI=true)."""
    from tests.support.pgcluster import free_port

    binary = shutil.which("redis-server")
    if binary is None:
        if running_in_ci():
            pytest.fail("CI=true: redis-server is not installed (.ci/run installs it)")
        pytest.skip("redis-server is not installed")
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.05)
    yield url
    process.terminate()
    process.wait(timeout=10)
