"""Sign-in with another provider in Chromium, through the example frontend's "Sign in with …"
button: the real provider (oidc-provider) and back, to the account page, in cookie mode."""

import shutil
from collections.abc import Iterator

import pytest

from tests.conftest import LiveServer, missing_tool, server_environment
from tests.examples.conftest import Frontend
from tests.support.markers import LIVE
from tests.support.oidc_provider import (
    CLIENT_ID,
    CLIENT_SECRET,
    OidcProvider,
    oidc_modules,
    oidc_provider_start,
)

pytestmark = [*LIVE, pytest.mark.slow, pytest.mark.browser]


@pytest.fixture(scope="module")
def oidc(frontend: Frontend, tmp_path_factory: pytest.TempPathFactory) -> Iterator[OidcProvider]:
    npm = shutil.which("npm")
    if npm is None:
        missing_tool("node/npm")
    assert npm is not None
    oidc_modules(npm)
    provider = oidc_provider_start(
        tmp_path_factory.mktemp("oidc"),
        redirect_uris=[f"{frontend.url}/api/auth/providers/acme/callback"],
    )
    yield provider
    provider.stop()


@pytest.fixture(scope="module")
def provider_api(
    frontend: Frontend,
    oidc: OidcProvider,
    django_db_setup: None,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[LiveServer]:
    """The API on the port the frontend was built for, with `acme` configured. The browser
    reaches it only through the frontend's rewrite, so its public URL is the frontend's."""
    environment = server_environment(
        CORS_ORIGINS=frontend.url,
        RATE_LIMITS="off",
        FRONTEND_URL=frontend.url,
        API_PUBLIC_URL=frontend.url,
        SOCIAL_PROVIDERS="acme",
        SOCIAL_ACME_ISSUER=oidc.issuer,
        SOCIAL_ACME_CLIENT_ID=CLIENT_ID,
        SOCIAL_ACME_CLIENT_SECRET=CLIENT_SECRET,
        SOCIAL_ACME_NAME="Acme",
        SOCIAL_ACME_SCOPES="openid email",
    )
    if not environment["TEST_SERVER_DATABASE_URL"].startswith("postgres"):
        missing_tool("PostgreSQL")
    server = LiveServer(
        env=environment,
        port=int(frontend.api_url.rsplit(":", 1)[1]),
        output_path=tmp_path_factory.mktemp("providers-api") / "server.log",
    )
    try:
        yield server.start()
    finally:
        server.stop()


async def test_sign_in_with_a_provider_button_round_trip_lands_on_the_account_page(
    provider_api, oidc, frontend, new_context
):
    context = await new_context()
    page = await context.new_page()
    await page.goto(f"{frontend.url}/signin")
    await page.get_by_role("button", name="Sign in with Acme").click()

    await provider_login(page, oidc, "browser@example.com")

    # Back through the API's callback to the frontend's page, which trades the code.
    await page.wait_for_url(f"{frontend.url}/account", timeout=30_000)
    assert await page.get_by_test_id("email").inner_text() == "browser@example.com"
    identities = page.get_by_role("region", name="Linked providers")
    assert "Acme: browser@example.com" in await identities.inner_text()
    cookies = {cookie["name"] for cookie in await context.cookies(frontend.url)}
    assert {"__Host-access", "__Host-refresh"} <= cookies
    # Through the rewrite both ways: sent to the exchange, which cleared it.
    assert "__Host-provider-flow" not in cookies


async def test_a_flow_finished_in_another_browser_lands_on_an_error(
    provider_api, oidc, frontend, new_context
):
    # One browser (an attacker's) starts the flow and keeps its binding cookie...
    starter = await (await new_context()).new_page()
    seen: list[str] = []

    async def keep_away(route):
        seen.append(route.request.url)
        await route.abort()

    await starter.route(f"{oidc.issuer}/**", keep_away)
    await starter.goto(f"{frontend.url}/signin")
    await starter.get_by_role("button", name="Sign in with Acme").click()
    await starter.wait_for_timeout(500)
    [authorization_url] = seen

    # ... another (the victim's, sent the link) signs in at the provider: no session from it.
    page = await (await new_context()).new_page()
    await page.goto(authorization_url)
    await page.fill("input[name=login]", "victim@example.com")
    await page.fill("input[name=password]", "anything")
    await page.click("button[type=submit]")
    await page.wait_for_selector("button[type=submit]")
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{frontend.url}/auth/callback?error=invalid_state")
    assert "invalid_state" in await page.locator("p[role=alert]").inner_text()


async def provider_login(page, oidc: OidcProvider, login: str) -> None:
    """At the provider (devInteractions): its login form, then its consent form."""
    await page.wait_for_url(f"{oidc.issuer}/interaction/**")
    await page.fill("input[name=login]", login)
    await page.fill("input[name=password]", "anything")
    await page.click("button[type=submit]")
    await page.wait_for_selector("button[type=submit]")
    await page.click("button[type=submit]")


async def stay(route) -> None:
    """A request that never leaves the browser."""
    await route.abort()


async def test_an_attackers_code_sent_to_another_browser_signs_nobody_in(
    provider_api, oidc, frontend, new_context
):
    # The attacker signs in at the provider with their own account and lands on the frontend's
    # page with the code, keeping it unspent (their page's exchange never reaches the API).
    attacker = await (await new_context()).new_page()
    await attacker.route(f"{frontend.url}/api/auth/providers/exchange", stay)
    await attacker.goto(f"{frontend.url}/signin")
    await attacker.get_by_role("button", name="Sign in with Acme").click()
    await provider_login(attacker, oidc, "attacker@example.com")
    await attacker.wait_for_url(f"{frontend.url}/auth/callback?code=*")
    link = attacker.url

    # The victim's browser, with a flow of its own started (its own binding cookie), opens it.
    context = await new_context()
    victim = await context.new_page()
    await victim.route(f"{oidc.issuer}/**", stay)
    await victim.goto(f"{frontend.url}/signin")
    await victim.get_by_role("button", name="Sign in with Acme").click()
    await victim.wait_for_timeout(500)
    assert "__Host-provider-flow" in {c["name"] for c in await context.cookies(frontend.url)}
    await victim.goto(link)
    alert = victim.locator("p[role=alert]")
    await alert.wait_for()
    assert "Invalid or expired code" in await alert.inner_text()
    cookies = {cookie["name"] for cookie in await context.cookies(frontend.url)}
    assert not cookies & {"__Host-access", "__Host-refresh", "__Host-provider-flow"}
