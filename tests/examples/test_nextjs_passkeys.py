"""Passkeys in the example frontend, in Chromium with a virtual platform authenticator (the
DevTools WebAuthn domain): register one on /account, then sign in with it on /signin, no
password typed. The frontend is opened on `localhost` (an IP address cannot be an RP ID), and the
API is told so (FRONTEND_URL: the RP ID and origin default from it)."""

from collections.abc import Iterator
from typing import Any

import pytest

from accounts.models import User
from tests.conftest import LiveServer, missing_tool, server_environment
from tests.examples.conftest import Frontend
from tests.examples.test_nextjs import fill_credentials, shown_email
from tests.support.markers import LIVE

pytestmark = [*LIVE, pytest.mark.slow, pytest.mark.browser]


def on_localhost(frontend: Frontend) -> str:
    return frontend.url.replace("127.0.0.1", "localhost")


@pytest.fixture(scope="module")
def api(
    frontend: Frontend, django_db_setup: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """As tests/examples/conftest.py's, with the frontend's `localhost` origin as the relying
    party."""
    environment = server_environment(
        CORS_ORIGINS=f"{frontend.url},{on_localhost(frontend)}",
        FRONTEND_URL=on_localhost(frontend),
        RATE_LIMITS="off",
    )
    if not environment["TEST_SERVER_DATABASE_URL"].startswith("postgres"):
        missing_tool("PostgreSQL")
    server = LiveServer(
        env=environment,
        port=int(frontend.api_url.rsplit(":", 1)[1]),
        output_path=tmp_path_factory.mktemp("nextjs-passkeys-api") / "server.log",
    )
    try:
        yield server.start()
    finally:
        server.stop()


# Chromium's virtual authenticator answers a conditional (autofill) request by itself, which would
# race the button. The page says no conditional UI while this tab's sessionStorage asks so.
CONDITIONAL_SWITCH = """
(() => {
  const available = PublicKeyCredential.isConditionalMediationAvailable?.bind(PublicKeyCredential);
  PublicKeyCredential.isConditionalMediationAvailable = async () =>
    sessionStorage.getItem("no-conditional-ui") ? false : available ? available() : false;
})();
"""


async def with_platform_authenticator(context: Any, page: Any) -> tuple[Any, str]:
    cdp = await context.new_cdp_session(page)
    await cdp.send("WebAuthn.enable")
    added = await cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
            }
        },
    )
    return cdp, added["authenticatorId"]


async def test_register_a_passkey_on_the_account_page_then_sign_in_with_it(
    api, frontend, new_context
):
    site = on_localhost(frontend)
    context = await new_context()
    await context.add_init_script(CONDITIONAL_SWITCH)
    page = await context.new_page()
    cdp, authenticator = await with_platform_authenticator(context, page)

    await page.goto(f"{site}/signup")
    await fill_credentials(page, "passkey-user@example.com")
    await page.wait_for_url(f"{site}/account")
    # As its verification link would: passkeys are only for a verified address.
    await User.objects.filter(email="passkey-user@example.com").aupdate(email_verified=True)
    async with page.expect_response(f"{site}/api/auth/passkeys/register") as registered:
        await page.get_by_role("button", name="Add a passkey").click()
    assert (await registered.value).status == 201
    await page.locator("[data-passkey-id]").first.wait_for()
    held = await cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})
    assert len(held["credentials"]) == 1 and held["credentials"][0]["isResidentCredential"]

    # Rename it, then sign out: the authenticator (and its passkey) stays with the browser.
    await page.get_by_label("Passkey name").fill("This laptop")
    async with page.expect_response(lambda r: r.request.method == "PATCH"):
        await page.get_by_role("button", name="Rename").click()
    await page.evaluate("sessionStorage.setItem('no-conditional-ui', '1')")
    await page.get_by_role("button", name="Sign out").click()
    await page.wait_for_url(f"{site}/signin")
    assert "webauthn" in (await page.get_attribute("input[name=email]", "autocomplete") or "")

    # The button: no password typed.
    async with page.expect_response(f"{site}/api/auth/passkeys/signin") as signed_in:
        await page.get_by_role("button", name="Sign in with a passkey").click()
    answer = await signed_in.value
    assert answer.status == 200
    assert "refresh_token" not in await answer.json()
    await page.wait_for_url(f"{site}/account")
    assert await shown_email(page) == "passkey-user@example.com"
    assert await page.get_by_label("Passkey name").input_value() == "This laptop"

    # Conditional UI: the passkey offered in the email field's autofill signs in by itself
    # (the virtual authenticator picks it, as a user would from the list).
    await page.evaluate("sessionStorage.removeItem('no-conditional-ui')")
    async with page.expect_response(f"{site}/api/auth/passkeys/signin") as autofilled:
        await page.get_by_role("button", name="Sign out").click()
    assert (await autofilled.value).status == 200
    await page.wait_for_url(f"{site}/account")
    assert await shown_email(page) == "passkey-user@example.com"
