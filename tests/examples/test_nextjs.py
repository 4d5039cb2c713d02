"""The example frontend (examples/nextjs) in Chromium, against the live API in cookie mode."""

import asyncio
import functools
import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from typing import Any

import httpx
import pyotp
import pytest

from accounts.models import User
from tests.examples.conftest import Frontend
from tests.factories import DEFAULT_PASSWORD
from tests.project.clients.test_browser import PAGE, QuietHandler
from tests.support.markers import LIVE

pytestmark = [*LIVE, pytest.mark.slow, pytest.mark.browser]

ACCESS, REFRESH = "__Host-access", "__Host-refresh"
NEW_PASSWORD = "a different horse battery staple"


@pytest.fixture(scope="module")
def other_origin(tmp_path_factory) -> Iterator[str]:
    """A static page on a loopback port of its own: another origin than the frontend's (the
    same site, so the browser sends SameSite=Lax cookies along)."""
    root = tmp_path_factory.mktemp("other-origin")
    (root / "index.html").write_text(PAGE)
    site = ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(root))
    )
    threading.Thread(target=site.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{site.server_address[1]}"
    site.shutdown()
    site.server_close()


async def fill_credentials(page: Any, email: str, password: str = DEFAULT_PASSWORD) -> None:
    await page.fill("input[name=email]", email)
    await page.fill("input[name=password]", password)
    await page.click("button[type=submit]")


async def sign_up(context: Any, frontend: Frontend, email: str) -> Any:
    """A new page of `context` that signed up through /signup and landed on /account."""
    page = await context.new_page()
    await page.goto(f"{frontend.url}/signup")
    await fill_credentials(page, email)
    await page.wait_for_url(f"{frontend.url}/account")
    return page


async def shown_email(page: Any) -> str:
    return await page.get_by_test_id("email").inner_text()


async def auth_cookies(context: Any, frontend: Frontend) -> dict[str, dict[str, Any]]:
    return {
        cookie["name"]: cookie
        for cookie in await context.cookies(frontend.url)
        if cookie["name"] in (ACCESS, REFRESH)
    }


def set_cookie_names(headers: list[dict[str, str]]) -> list[str]:
    return [
        header["value"].split("=", 1)[0]
        for header in headers
        if header["name"].lower() == "set-cookie"
    ]


async def test_signup_lands_on_an_account_page_whose_server_sent_html_shows_the_email(
    api, frontend, new_context
):
    context = await new_context()
    page = await context.new_page()
    await page.goto(f"{frontend.url}/signup")
    async with page.expect_response(f"{frontend.url}/api/auth/signup") as signup:
        await fill_credentials(page, "Ada@Example.com")
    answer = await signup.value
    assert answer.status == 201
    # Cookie mode: the browser's script gets no refresh token, not even in the answer's body.
    assert "refresh_token" not in await answer.json()
    await page.wait_for_url(f"{frontend.url}/account")
    assert await shown_email(page) == "ada@example.com"

    # The HTML the server sends (the response itself, not the DOM scripts built) has the email.
    response = await page.goto(f"{frontend.url}/account")
    assert response.status == 200
    html = await response.text()
    assert ">ada@example.com</strong>" in html

    cookies = await auth_cookies(context, frontend)
    assert set(cookies) == {ACCESS, REFRESH}
    for cookie in cookies.values():
        assert (cookie["httpOnly"], cookie["secure"], cookie["sameSite"], cookie["path"]) == (
            True,
            True,
            "Lax",
            "/",
        )
    # No token anywhere a script (or the page's own HTML) could read it.
    readable = await page.evaluate(
        "() => [document.cookie, JSON.stringify({...localStorage}),"
        " JSON.stringify({...sessionStorage}), document.documentElement.outerHTML]"
    )
    assert "__Host-" not in readable[0]
    for cookie in cookies.values():
        for place in (*readable, html):
            assert cookie["value"] not in place


async def test_two_tabs_refreshing_the_same_session_at_once_both_stay_signed_in(
    api, frontend, new_context
):
    context = await new_context()
    page = await sign_up(context, frontend, "tabs@example.com")
    spent = (await auth_cookies(context, frontend))[REFRESH]["value"]

    # The access cookie's Max-Age ran out: both tabs load /account together, and the server
    # refreshes for each with the same refresh cookie.
    await context.clear_cookies(name=ACCESS)
    tabs = [await context.new_page() for _ in range(2)]
    responses = await asyncio.gather(*(tab.goto(f"{frontend.url}/account") for tab in tabs))
    for tab, response in zip(tabs, responses, strict=True):
        assert response.status == 200
        assert tab.url == f"{frontend.url}/account"
        assert await shown_email(tab) == "tabs@example.com"
        # Each answer refreshed and handed the browser the new cookies.
        assert sorted(set_cookie_names(await response.headers_array())) == [
            ACCESS,
            REFRESH,
        ]
    cookies = await auth_cookies(context, frontend)
    assert cookies[REFRESH]["value"] != spent

    # Whichever answer's cookies the browser kept, they carry the session on: one session, live.
    await context.clear_cookies(name=ACCESS)
    response = await page.goto(f"{frontend.url}/account")
    assert page.url == f"{frontend.url}/account"
    assert await shown_email(page) == "tabs@example.com"
    assert await page.locator("tr[data-session-id]").count() == 1


# Runs in a page on another origin, with the user's cookies in the browser: what a hostile page
# could try with fetch. fetch rejects (a TypeError) when the browser refuses the answer.
CROSS_ORIGIN_FETCHES = """
async ([app, currentPassword, newPassword]) => {
  const outcome = async (request) => {
    try {
      const answer = await request;
      return answer.type === "opaque" ? "opaque" : answer.status;
    } catch (error) {
      return error.name;
    }
  };
  const body = JSON.stringify({ current_password: currentPassword, new_password: newPassword });
  const simple = { method: "POST", mode: "no-cors", credentials: "include" };
  return {
    refresh: await outcome(fetch(`${app}/api/auth/refresh`, simple)),
    signout: await outcome(fetch(`${app}/api/auth/signout`, simple)),
    password: await outcome(fetch(`${app}/api/auth/password`, {
      ...simple, headers: { "Content-Type": "text/plain" }, body,
    })),
    passwordWithHeader: await outcome(fetch(`${app}/api/auth/password`, {
      method: "POST", credentials: "include", body,
      headers: { "Content-Type": "application/json", "X-Auth-Transport": "cookie" },
    })),
  };
}
"""

CROSS_ORIGIN_FORM = """
(action) => {
  const form = document.createElement("form");
  form.method = "POST";
  form.action = action;
  document.body.append(form);
  form.submit();
}
"""


async def test_page_on_another_origin_cannot_refresh_sign_out_or_change_the_password(
    api, frontend, other_origin, new_context
):
    context = await new_context()
    page = await sign_up(context, frontend, "eve-target@example.com")
    before = await auth_cookies(context, frontend)

    attacker = await context.new_page()
    answered: dict[str, list[int]] = {}
    attacker.on(
        "response",
        lambda response: answered.setdefault(response.url.rsplit("/api/auth/", 1)[-1], []).append(
            response.status
        ),
    )
    await attacker.goto(f"{other_origin}/index.html")
    result = await attacker.evaluate(
        CROSS_ORIGIN_FETCHES, [frontend.url, DEFAULT_PASSWORD, NEW_PASSWORD]
    )
    # Simple requests reach the API with the cookies, and the API refuses them; the one that
    # carries the transport header needs a preflight, which the API refuses for this origin.
    assert result == {
        "refresh": "opaque",
        "signout": "opaque",
        "password": "opaque",
        "passwordWithHeader": "TypeError",
    }
    assert answered["refresh"] == [403]
    assert answered["signout"] == [403]
    assert answered["password"] == [403]
    # A cross-site form post (a top-level navigation, Lax cookies sent) is refused the same way.
    for action in ("refresh", "signout"):
        async with attacker.expect_navigation() as navigation:
            await attacker.evaluate(CROSS_ORIGIN_FORM, f"{frontend.url}/api/auth/{action}")
        response = await navigation.value
        assert response.status == 403
        assert await response.json() == {"detail": "CSRF check failed"}
        await attacker.goto(f"{other_origin}/index.html")

    # Nothing changed: the same cookies, the session alive, the password the old one.
    assert await auth_cookies(context, frontend) == before
    await page.goto(f"{frontend.url}/account")
    assert await shown_email(page) == "eve-target@example.com"
    await context.clear_cookies(name=ACCESS)  # the refresh cookie still refreshes
    await page.goto(f"{frontend.url}/account")
    assert await shown_email(page) == "eve-target@example.com"
    async with httpx.AsyncClient(base_url=api.url) as client:
        credentials = {"email": "eve-target@example.com", "password": DEFAULT_PASSWORD}
        assert (await client.post("/api/auth/signin", json=credentials)).status_code == 200


async def test_sign_out_ends_the_session_and_clears_the_cookies(api, frontend, new_context):
    context = await new_context()
    page = await sign_up(context, frontend, "bye@example.com")
    refresh_token = (await auth_cookies(context, frontend))[REFRESH]["value"]

    await page.get_by_role("button", name="Sign out").click()
    await page.wait_for_url(f"{frontend.url}/signin")
    assert await auth_cookies(context, frontend) == {}
    await page.goto(f"{frontend.url}/account")
    assert page.url == f"{frontend.url}/signin"
    # Ended on the server too, not only forgotten by the browser.
    async with httpx.AsyncClient(base_url=api.url) as client:
        refresh = await client.post("/api/auth/refresh", json={"refresh_token": refresh_token})
    assert refresh.status_code == 401


async def test_ending_another_session_from_the_account_page_signs_that_browser_out(
    api, frontend, new_context
):
    laptop = await new_context()
    page = await sign_up(laptop, frontend, "two-devices@example.com")
    phone = await new_context()
    phone_page = await phone.new_page()
    await phone_page.goto(f"{frontend.url}/signin")
    await fill_credentials(phone_page, "two-devices@example.com")
    await phone_page.wait_for_url(f"{frontend.url}/account")

    await page.reload()
    rows = page.locator("tr[data-session-id]")
    assert await rows.count() == 2
    other = rows.filter(has_not_text="(this one)")
    await other.get_by_role("button", name="End session").click()
    await rows.nth(1).wait_for(state="detached")
    assert await rows.count() == 1

    await phone_page.goto(f"{frontend.url}/account")
    assert phone_page.url == f"{frontend.url}/signin"
    await page.reload()
    assert await shown_email(page) == "two-devices@example.com"


async def test_sign_in_with_a_second_factor_asks_for_a_code(api, frontend, new_context):
    email = "totp@example.com"
    credentials = {"email": email, "password": DEFAULT_PASSWORD}
    async with httpx.AsyncClient(base_url=api.url) as client:
        session = (await client.post("/api/auth/signup", json=credentials)).json()
        # As its verification link would: TOTP is only for a verified address.
        await User.objects.filter(email=email).aupdate(email_verified=True)
        bearer = {"Authorization": f"Bearer {session['access_token']}"}
        setup = await client.post("/api/auth/mfa/totp/setup", headers=bearer)
        code = pyotp.TOTP(setup.json()["secret"]).now()
        confirm = await client.post(
            "/api/auth/mfa/totp/confirm", json={"code": code}, headers=bearer
        )
        assert confirm.status_code == 200, confirm.text
        recovery_code = confirm.json()["recovery_codes"][0]

    context = await new_context()
    page = await context.new_page()
    await page.goto(f"{frontend.url}/signin")
    await fill_credentials(page, email)
    await page.fill("input[name=code]", "000000")
    await page.click("button[type=submit]")
    # (Next's route announcer is an alert too: the page's own is in <main>.)
    assert await page.locator("main [role=alert]").inner_text() == "Invalid code"
    assert await auth_cookies(context, frontend) == {}
    await page.fill("input[name=code]", recovery_code)
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{frontend.url}/account")
    assert await shown_email(page) == email
