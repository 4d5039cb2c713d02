"""The example frontend built and served for the tests: `npm ci` from its lockfile, one `next build`
per session against an API port chosen up front (Next fixes rewrite targets at build time), `next
start`, and the API on that port for each module."""

import os
import shutil
import subprocess
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import ROOT, LiveServer, missing_tool, server_environment
from tests.project.clients.conftest import chromium_path, failed, pytest_runtest_makereport
from tests.support.pgcluster import free_port

# The browser, and the hook that lets a fixture see that its test failed (for screenshots).
__all__ = ["chromium_path", "pytest_runtest_makereport"]

NEXTJS_DIR = ROOT / "examples" / "nextjs"
TIMEOUT_MS = 15_000


@dataclass(frozen=True)
class Frontend:
    """`next start` serving the example, built to reach the API at `api_url`."""

    url: str
    api_url: str


def npm() -> str:
    path = shutil.which("npm")
    if shutil.which("node") is None or path is None:
        missing_tool("node/npm")
    assert path is not None
    return path


def run(command: list[str], what: str, timeout: float, **env: str) -> None:
    result = subprocess.run(
        command,
        cwd=NEXTJS_DIR,
        env={**os.environ, "NEXT_TELEMETRY_DISABLED": "1", **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert result.returncode == 0, (
        f"{what} failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    )


@pytest.fixture(scope="session")
def nextjs_modules() -> Path:
    """examples/nextjs/node_modules from the committed lockfile (`npm ci` when absent or older
    than the lockfile): packages from the registry only, nothing else downloaded."""
    modules = NEXTJS_DIR / "node_modules"
    installed = modules / ".package-lock.json"  # npm writes it on every install
    lockfile = NEXTJS_DIR / "package-lock.json"
    if not installed.exists() or installed.stat().st_mtime < lockfile.stat().st_mtime:
        run([npm(), "ci", "--no-audit", "--no-fund", "--loglevel=error"], "npm ci", timeout=600)
    return modules


@pytest.fixture(scope="session")
def frontend(nextjs_modules: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Frontend]:
    """The example built against an API port reserved now (the `api` fixture starts the API
    there) and served by `next start` on a port of its own."""
    api_url = f"http://127.0.0.1:{free_port()}"
    next_bin = str(nextjs_modules / ".bin" / "next")
    run([next_bin, "build"], "next build", timeout=600, API_URL=api_url)
    port = free_port()
    log = tmp_path_factory.mktemp("nextjs") / "next-start.log"
    process = subprocess.Popen(
        [next_bin, "start", "--hostname", "127.0.0.1", "--port", str(port)],
        cwd=NEXTJS_DIR,
        env={**os.environ, "NEXT_TELEMETRY_DISABLED": "1"},
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, f"next start exited:\n{log.read_text()}"
            assert time.monotonic() < deadline, f"next start did not answer:\n{log.read_text()}"
            try:
                httpx.get(f"{url}/signin", timeout=2)
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        yield Frontend(url=url, api_url=api_url)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def api(
    frontend: Frontend,
    django_db_setup: None,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[LiveServer]:
    """The API on the port the frontend was built for, trusting the frontend's origin; stopped at
    the end of the module, before pytest-django drops the test database."""
    environment = server_environment(CORS_ORIGINS=frontend.url, RATE_LIMITS="off")
    if not environment["TEST_SERVER_DATABASE_URL"].startswith("postgres"):
        missing_tool("PostgreSQL")
    server = LiveServer(
        env=environment,
        port=int(frontend.api_url.rsplit(":", 1)[1]),
        output_path=tmp_path_factory.mktemp("nextjs-api") / "server.log",
    )
    try:
        yield server.start()
    finally:
        server.stop()


# Playwright's async API, on the suite's event loop (see tests/project/clients/test_browser.py).
@pytest.fixture(scope="module")
async def browser(chromium_path: str) -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=chromium_path, args=["--no-sandbox"], headless=True
        )
        yield browser
        await browser.close()


@pytest.fixture
async def new_context(browser, request, tmp_path) -> AsyncIterator[Callable[[], Awaitable[Any]]]:
    """Fresh browser contexts (each a profile of its own: its own cookies); when the test fails,
    a screenshot of every page they opened is saved under its tmp_path and the paths printed."""
    contexts: list[Any] = []

    async def open_context() -> Any:
        context = await browser.new_context()
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context

    yield open_context
    if failed(request):
        pages = [page for context in contexts for page in context.pages]
        for number, page in enumerate(pages):
            path = tmp_path / f"screenshot-{number}.png"
            try:
                await page.screenshot(path=str(path), full_page=True)
                print(f"screenshot of {page.url}: {path}")
            except Exception as error:
                print(f"no screenshot of {page.url}: {error}")
    for context in contexts:
        await context.close()
