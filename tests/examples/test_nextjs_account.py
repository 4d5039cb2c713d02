"""The example frontend's account life in Chromium, against the live API sending real mail (the
aiosmtpd server of test_email_delivery): sign in by an emailed code, download the data, delete
the account after re-authenticating, and restore it from the mailed link."""

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from accounts.models import User
from tests.accounts.flows.test_deletion import NOTICE
from tests.accounts.helpers import age_sessions
from tests.accounts.test_email_code_delivery import SHOWN_CODE
from tests.accounts.test_email_delivery import link_token, mail_server
from tests.conftest import LiveServer, missing_tool, server_environment
from tests.examples.conftest import Frontend
from tests.examples.test_nextjs import auth_cookies, shown_email
from tests.factories import DEFAULT_PASSWORD
from tests.support.mail import parts
from tests.support.markers import LIVE

pytestmark = [*LIVE, pytest.mark.slow, pytest.mark.browser]
__all__ = ["mail_server"]  # the fixture this module shares


@pytest.fixture(scope="module")
def api(frontend: Frontend, mail_server, django_db_setup, tmp_path_factory) -> Any:
    """As tests/examples/conftest.py's, sending its mail (from the request, after the commit)
    to the test's SMTP server."""
    environment = server_environment(
        CORS_ORIGINS=frontend.url, RATE_LIMITS="off", **mail_server.environment()
    )
    if not environment["TEST_SERVER_DATABASE_URL"].startswith("postgres"):
        missing_tool("PostgreSQL")
    server = LiveServer(
        env=environment,
        port=int(frontend.api_url.rsplit(":", 1)[1]),
        output_path=tmp_path_factory.mktemp("nextjs-account-api") / "server.log",
    )
    try:
        yield server.start()
    finally:
        server.stop()


async def mail(mail_server, email: str, subject: str) -> Any:
    return await asyncio.to_thread(mail_server.wait_for, email, subject)


async def test_sign_in_by_emailed_code_download_the_data_then_delete_and_restore(
    api, frontend, mail_server, new_context, settings
):
    email = "pages@example.com"
    async with httpx.AsyncClient(base_url=api.url) as client:
        created = await client.post(
            "/api/auth/signup", json={"email": email, "password": DEFAULT_PASSWORD}
        )
        assert created.status_code == 201
        # Verified by its link first: a code would take an unverified account over from whoever
        # signed up, password and all (accounts.unverified), and the deletion below asks for it.
        verify = link_token(await mail(mail_server, email, "Confirm your email address"))
        verified = await client.post("/api/auth/email/verify", json={"token": verify})
        assert verified.status_code == 200

    context = await new_context()
    page = await context.new_page()
    await page.goto(f"{frontend.url}/signin")
    await page.click("text=Email me a code")
    await page.wait_for_url(f"{frontend.url}/signin/code")
    await page.fill("input[name=email]", email)
    await page.click("button[type=submit]")
    message = await mail(mail_server, email, "Your sign-in code")
    [code] = SHOWN_CODE.findall(parts(message.message)["text/plain"])
    await page.fill("input[name=code]", code)
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{frontend.url}/account")
    assert await shown_email(page) == email

    async with page.expect_download() as downloading:
        await page.click("text=Download my data")
    download = await downloading.value
    assert download.suggested_filename == "account.json"
    document = json.loads(Path(await download.path()).read_text())
    assert document["user"]["email"] == email
    assert [event["type"] for event in document["events"]][:2] == ["signin", "email_verified"]

    # The sign-in is no longer fresh: deleting asks for the password first, then goes through.
    await age_sessions(email, settings.REAUTH_MAX_AGE + 1)
    await page.click("text=Delete my account")
    await page.click("text=Yes, delete my account")
    await page.fill("form[name=reauthenticate] input[name=password]", DEFAULT_PASSWORD)
    await page.click("form[name=reauthenticate] button[type=submit]")
    await page.wait_for_url(f"{frontend.url}/account-deleted?**")
    assert "scheduled for deletion" in await page.locator("main [role=status]").inner_text()
    assert await auth_cookies(context, frontend) == {}
    assert not (await User.objects.aget(email=email)).is_active

    token = link_token(await mail(mail_server, email, NOTICE))
    await page.goto(f"{frontend.url}/restore-account?token={token}")
    await page.click("text=Restore my account")
    assert await page.locator("main [role=status]").inner_text() == "Account restored"
    assert (await User.objects.aget(email=email)).is_active
