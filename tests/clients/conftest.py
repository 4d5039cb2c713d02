"""Real clients against live uvicorn servers: one server per module, tools found or skipped."""

import shutil
import subprocess
from collections.abc import Callable, Generator, Iterator
from pathlib import Path

import pytest

from tests.conftest import LiveServer, server_environment
from tests.postgres_plugin import running_in_ci

CLIENTS_DIR = Path(__file__).resolve().parent
phase_reports = pytest.StashKey[dict[str, pytest.TestReport]]()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/clients/" in str(item.path):
            item.add_marker(pytest.mark.postgresql)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item,
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Keep each phase's report on the test, so a fixture can tell that its test failed."""
    report = yield
    item.stash.setdefault(phase_reports, {})[report.when] = report
    return report


def failed(request: pytest.FixtureRequest) -> bool:
    reports = request.node.stash.get(phase_reports, {})
    return any(report.failed for report in reports.values())


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
    servers: list[LiveServer] = []

    def start(*args: str, **env: str) -> LiveServer:
        server = LiveServer(
            env=server_environment(**env),
            args=list(args),
            output_path=logs / f"server-{len(servers)}.log",
        )
        servers.append(server)
        return server.start()

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(scope="session")
def node_modules() -> Path:
    """tests/clients/node_modules from the committed lockfile (`npm ci` when absent or older
    than the lockfile)."""
    npm = shutil.which("npm")
    if shutil.which("node") is None or npm is None:
        missing_tool("node/npm")
    assert npm is not None
    modules = CLIENTS_DIR / "node_modules"
    installed = modules / ".package-lock.json"  # npm writes it on every install
    lockfile = CLIENTS_DIR / "package-lock.json"
    if not installed.exists() or installed.stat().st_mtime < lockfile.stat().st_mtime:
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=CLIENTS_DIR,
            check=True,
            timeout=300,
        )
    return modules


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """Debian's chromium (never a browser downloaded by `playwright install`)."""
    path = shutil.which("chromium")
    if path is None:
        missing_tool("chromium")
    assert path is not None
    return path
