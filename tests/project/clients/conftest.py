"""Real clients against live uvicorn servers: one server per module, tools found or skipped."""

import shutil
import subprocess
from collections.abc import Generator
from pathlib import Path

import pytest

from tests.conftest import missing_tool

CLIENTS_DIR = Path(__file__).resolve().parent
phase_reports = pytest.StashKey[dict[str, pytest.TestReport]]()


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


@pytest.fixture(scope="session")
def node_modules() -> Path:
    """tests/project/clients/node_modules from the committed lockfile (`npm ci` when absent or
    older than the lockfile)."""
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
