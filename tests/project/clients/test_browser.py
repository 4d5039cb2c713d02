"""A real browser (Playwright driving Debian's chromium): the docs page, CORS pages, the admin."""

import base64
import functools
import json
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.factories import DEFAULT_PASSWORD
from tests.project.clients.conftest import failed
from tests.support.markers import LIVE

pytestmark = [*LIVE, pytest.mark.slow]

PAGE = "<!DOCTYPE html><html><head><title>frontend</title></head><body>frontend</body></html>"
TIMEOUT_MS = 15_000


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def static_origins(tmp_path_factory) -> Iterator[tuple[str, str]]:
    """Two tiny static sites on loopback ports of their own: an allowed origin and another."""
    root = tmp_path_factory.mktemp("static")
    (root / "index.html").write_text(PAGE)
    handler = functools.partial(QuietHandler, directory=str(root))
    sites = [ThreadingHTTPServer(("127.0.0.1", 0), handler) for _ in range(2)]
    threads = [threading.Thread(target=site.serve_forever, daemon=True) for site in sites]
    for thread in threads:
        thread.start()
    allowed, other = (f"http://127.0.0.1:{site.server_address[1]}" for site in sites)
    yield allowed, other
    for site in sites:
        site.shutdown()
        site.server_close()


@pytest.fixture(scope="module")
def server(module_live_server, static_origins):
    allowed, _ = static_origins
    return module_live_server(CORS_ORIGINS=allowed, RATE_LIMITS="on", RATE_LIMIT_SIGNUP="1/h")


# Playwright's async API, on the suite's event loop: its sync API keeps a loop running in the
# test's thread, and Django then refuses the ORM calls of the test and of its database flush.
@pytest.fixture(scope="module")
async def browser(chromium_path) -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=chromium_path, args=["--no-sandbox"], headless=True
        )
        yield browser
        await browser.close()


@pytest.fixture
async def new_page(browser, request, tmp_path) -> AsyncIterator[Callable[[], Awaitable[Any]]]:
    """Fresh pages, each in a context of its own; when the test fails, a screenshot of every
    one of them is saved under its tmp_path and the paths printed."""
    contexts: list[Any] = []
    pages: list[Any] = []

    async def open_page() -> Any:
        context = await browser.new_context()
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        pages.append(await context.new_page())
        return pages[-1]

    yield open_page
    if failed(request):
        for number, page in enumerate(pages):
            path = tmp_path / f"screenshot-{number}.png"
            try:
                await page.screenshot(path=str(path), full_page=True)
                print(f"screenshot of {page.url}: {path}")
            except Exception as error:
                print(f"no screenshot of {page.url}: {error}")
    for context in contexts:
        await context.close()


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


async def test_docs_page_renders_every_operation_without_leaving_the_service(server, new_page):
    page = await new_page()
    requested: list[str] = []

    async def keep_home(route: Any) -> None:
        # Record every request; let through only those to the service itself, so nothing
        # leaves this machine even when the page tries.
        requested.append(route.request.url)
        if origin_of(route.request.url) == server.url:
            await route.continue_()
        else:
            await route.abort()

    await page.route("**/*", keep_home)
    await page.goto(f"{server.url}/api/docs")
    async with httpx.AsyncClient(base_url=server.url) as client:
        document = (await client.get("/api/openapi.json")).json()
    operations = sorted(
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if method in ("get", "put", "post", "delete", "patch", "head", "options")
    )
    # Swagger UI renders every operation at once, or an error box when it refuses the document.
    await page.locator(".opblock, .errors-wrapper").first.wait_for()
    errors = page.locator(".errors-wrapper")
    assert await errors.count() == 0, await errors.all_inner_texts()
    blocks = page.locator(".opblock")
    shown = sorted(
        [
            (
                (await block.locator(".opblock-summary-method").inner_text()).strip(),
                await block.locator(".opblock-summary-path").get_attribute("data-path"),
            )
            for block in await blocks.all()
        ]
    )
    assert shown == operations

    # "Try it out" -> "Execute" on GET /health answers from the service.
    health = page.locator(".opblock-get").filter(
        has=page.locator('.opblock-summary-path[data-path="/health"]')
    )
    await health.locator(".opblock-summary").click()
    await health.locator("button.try-out__btn").click()
    await health.locator("button.execute").click()
    status = health.locator(".live-responses-table tr.response .response-col_status").first
    await status.wait_for()
    assert (await status.inner_text()).strip() == "200"
    body = await health.locator(".live-responses-table tr.response .microlight").first.inner_text()
    assert '"status": "healthy"' in body

    assert f"{server.url}/health" in requested
    strangers = [url for url in requested if origin_of(url) != server.url]
    assert not strangers, strangers


# Runs inside the page: what a frontend's own code would do with fetch.
FRONTEND_FLOW = """
async ([api, email, password]) => {
  const json = { "Content-Type": "application/json" };
  const signup = await fetch(`${api}/api/auth/signup`, {
    method: "POST", headers: json, body: JSON.stringify({ email, password }),
  });
  const session = await signup.json();
  const me = await fetch(`${api}/api/auth/me`, {
    headers: { Authorization: `Bearer ${session.access_token}` },
  });
  const again = await fetch(`${api}/api/auth/signup`, {
    method: "POST", headers: json, body: JSON.stringify({ email: "2" + email, password }),
  });
  const denied = await fetch(`${api}/api/auth/me`, {
    headers: { Authorization: "Bearer not-a-token" },
  });
  return {
    signup: signup.status,
    me: { status: me.status, body: await me.json() },
    throttled: { status: again.status, retryAfter: again.headers.get("Retry-After") },
    denied: { status: denied.status, challenge: denied.headers.get("WWW-Authenticate") },
  };
}
"""


async def test_page_on_an_allowed_origin_signs_up_and_reads_the_documented_headers(
    server, static_origins, new_page
):
    allowed, _ = static_origins
    page = await new_page()
    await page.goto(f"{allowed}/index.html")
    result = await page.evaluate(FRONTEND_FLOW, [server.url, "Mia@Example.com", DEFAULT_PASSWORD])
    assert result["signup"] == 201
    assert result["me"]["status"] == 200
    assert result["me"]["body"]["email"] == "mia@example.com"
    # The sign-up rate is one an hour: the second one is throttled, and the page can read
    # when to retry.
    assert result["throttled"]["status"] == 429
    assert int(result["throttled"]["retryAfter"]) > 0
    assert result["denied"]["status"] == 401
    assert (result["denied"]["challenge"] or "").startswith("Bearer"), result["denied"]


# fetch rejects (a TypeError) when the browser refuses the answer on CORS grounds.
BLOCKED_FETCHES = """
async ([api, email, password]) => {
  const outcome = async (request) => {
    try { return `answered ${(await request).status}`; } catch (error) { return error.name; }
  };
  return {
    health: await outcome(fetch(`${api}/health`)),
    signup: await outcome(fetch(`${api}/api/auth/signup`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ email, password }),
    })),
  };
}
"""


async def test_page_on_another_origin_is_blocked_by_the_browser(server, static_origins, new_page):
    from accounts.models import User

    _, other = static_origins
    page = await new_page()
    await page.goto(f"{other}/index.html")
    result = await page.evaluate(BLOCKED_FETCHES, [server.url, "eve@example.com", DEFAULT_PASSWORD])
    assert result == {"health": "TypeError", "signup": "TypeError"}
    # The preflight was refused, so the sign-up never reached the view.
    assert not await User.objects.filter(email="eve@example.com").aexists()


def session_id_of(access_token: str) -> str:
    payload = access_token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["sid"]


async def test_admin_revokes_a_session_and_its_token_stops_working(server, new_page):
    from accounts.models import User

    await User.objects.acreate_user(
        email="admin@example.com", password=DEFAULT_PASSWORD, is_staff=True, is_superuser=True
    )
    await User.objects.acreate_user(email="sam@example.com", password=DEFAULT_PASSWORD)
    credentials = {"email": "sam@example.com", "password": DEFAULT_PASSWORD}
    async with httpx.AsyncClient(base_url=server.url) as client:
        revoked, kept = [
            (await client.post("/api/auth/signin", json=credentials)).json()["access_token"]
            for _ in range(2)
        ]

        async def me(token: str) -> int:
            headers = {"Authorization": f"Bearer {token}"}
            return (await client.get("/api/auth/me", headers=headers)).status_code

        assert (await me(revoked), await me(kept)) == (200, 200)

        page = await new_page()
        await page.goto(f"{server.url}/admin/login/")
        await page.fill("input[name=username]", "admin@example.com")
        await page.fill("input[name=password]", DEFAULT_PASSWORD)
        await page.click("[type=submit]")
        await page.wait_for_url(f"{server.url}/admin/")
        await page.goto(f"{server.url}/admin/accounts/authsession/")
        await page.check(f"input[name=_selected_action][value='{session_id_of(revoked)}']")
        await page.select_option("select[name=action]", label="Revoke the selected sessions")
        await page.click("button[name=index]")
        messages = page.locator(".messagelist")
        await messages.wait_for()
        assert "Revoked 1 session" in await messages.inner_text()

        assert (await me(revoked), await me(kept)) == (401, 200)
