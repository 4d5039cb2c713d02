"""The admin login's second step: staff with TOTP on answer a code (TOTP or recovery) before the
admin session exists; with ADMIN_REQUIRE_MFA, staff without TOTP set it up first."""

import re
from datetime import timedelta
from urllib.parse import urlsplit

import httpx
import pytest
from django.utils import timezone

from accounts.models import ThrottleCounter, User
from audit.models import AuthEvent
from mfa.models import MfaChallenge, RecoveryCode, TOTPDevice
from tests.accounts.helpers import signin
from tests.accounts.test_admin import admin_login, csrf_token
from tests.mfa.helpers import Clock, code, totp_on
from tests.project.test_settings import PRODUCTION, print_setting
from toolkit.rates import Rate

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "operator-passphrase"
CODE_STEP = "/admin/login/code/"
SETUP_STEP = "/admin/login/setup/"
SECRET = re.compile(r'<code id="totp-secret">([A-Z2-7]+)</code>')
RECOVERY_CODE = re.compile(r'<li class="recovery-code"><code>([0-9a-f-]+)</code></li>')


async def staff_member(email: str, **extra: object) -> User:
    return await User.objects.acreate_user(
        email, PASSWORD, is_staff=True, is_superuser=True, **extra
    )


async def staff_with_totp(api: httpx.AsyncClient, clock: Clock, email: str):
    """A staff member who turned TOTP on through the API (which asks for a verified address);
    the secret and recovery codes."""
    await staff_member(email, email_verified=True)
    session = await signin(api, email, PASSWORD)
    return await totp_on(api, session, clock)


async def has_admin_session(api: httpx.AsyncClient) -> bool:
    response = await api.get("/admin/")
    assert response.status_code in (200, 302), response.status_code
    return response.status_code == 200


async def answer(api: httpx.AsyncClient, step: str, code_text: str) -> httpx.Response:
    page = await api.get(step)
    assert page.status_code == 200, page.text[:500]
    return await api.post(
        step, data={"code": code_text, "csrfmiddlewaretoken": csrf_token(page.text)}
    )


async def logout(api: httpx.AsyncClient) -> None:
    page = await api.get("/admin/")
    await api.post("/admin/logout/", data={"csrfmiddlewaretoken": csrf_token(page.text)})
    assert not await has_admin_session(api)


async def test_the_password_alone_opens_no_admin_session_for_staff_with_totp(api, clock):
    await staff_with_totp(api, clock, "totp.staff@example.com")
    response = await admin_login(api, "totp.staff@example.com", PASSWORD)
    assert response.status_code == 302
    assert urlsplit(response.headers["location"]).path == CODE_STEP
    assert not await has_admin_session(api)
    listing = await api.get("/admin/accounts/user/")
    assert listing.status_code == 302 and "/admin/login/" in listing.headers["location"]


async def test_the_code_step_opens_the_admin_session(api, clock):
    secret, _ = await staff_with_totp(api, clock, "coded@example.com")
    await admin_login(api, "coded@example.com", PASSWORD)
    page = await api.get(CODE_STEP)
    assert page.status_code == 200
    assert 'name="code"' in page.text and "admin/css/login.css" in page.text
    response = await answer(api, CODE_STEP, code(secret, clock.step()))
    assert response.status_code == 302
    assert response.headers["location"] == "/admin/"
    assert await has_admin_session(api)
    assert (await api.get("/admin/accounts/user/")).status_code == 200
    assert await MfaChallenge.objects.filter(used_at__isnull=False).acount() == 1


async def test_a_wrong_code_shows_the_step_again_and_records_mfa_failed(api, clock):
    secret, _ = await staff_with_totp(api, clock, "typo@example.com")
    await admin_login(api, "typo@example.com", PASSWORD)
    wrong = await answer(api, CODE_STEP, "000000")
    assert wrong.status_code == 200
    assert "Invalid code" in wrong.text
    assert not await has_admin_session(api)
    event = await AuthEvent.objects.aget(type="mfa_failed")
    assert event.detail == {"during": "admin_login"}
    right = await answer(api, CODE_STEP, code(secret, clock.step()))
    assert right.status_code == 302
    assert await has_admin_session(api)


async def test_a_recovery_code_opens_the_admin_once(api, clock):
    _, codes = await staff_with_totp(api, clock, "lostphone.staff@example.com")
    await admin_login(api, "lostphone.staff@example.com", PASSWORD)
    assert (await answer(api, CODE_STEP, codes[0])).status_code == 302
    assert await has_admin_session(api)
    await logout(api)
    await admin_login(api, "lostphone.staff@example.com", PASSWORD)
    again = await answer(api, CODE_STEP, codes[0])
    assert again.status_code == 200 and "Invalid code" in again.text
    assert not await has_admin_session(api)
    assert (await answer(api, CODE_STEP, codes[1])).status_code == 302
    assert await has_admin_session(api)


async def test_a_replayed_totp_code_is_refused(api, clock):
    secret, _ = await staff_with_totp(api, clock, "replay.staff@example.com")
    used = code(secret, clock.step())
    await admin_login(api, "replay.staff@example.com", PASSWORD)
    assert (await answer(api, CODE_STEP, used)).status_code == 302
    await logout(api)
    await admin_login(api, "replay.staff@example.com", PASSWORD)
    replayed = await answer(api, CODE_STEP, used)
    assert replayed.status_code == 200 and "Invalid code" in replayed.text
    assert not await has_admin_session(api)


async def test_the_half_done_login_dies_after_five_wrong_codes(api, clock):
    secret, _ = await staff_with_totp(api, clock, "fivewrong.staff@example.com")
    await admin_login(api, "fivewrong.staff@example.com", PASSWORD)
    for _ in range(4):
        assert (await answer(api, CODE_STEP, "000000")).status_code == 200
    fifth = await answer(api, CODE_STEP, "000000")
    assert fifth.status_code == 302
    assert urlsplit(fifth.headers["location"]).path == "/admin/login/"
    dead = await api.get(CODE_STEP)
    assert dead.status_code == 302 and urlsplit(dead.headers["location"]).path == "/admin/login/"
    assert not await has_admin_session(api)
    # A new login starts a new second step.
    await admin_login(api, "fivewrong.staff@example.com", PASSWORD)
    assert (await answer(api, CODE_STEP, code(secret, clock.step()))).status_code == 302
    assert await has_admin_session(api)


async def test_an_expired_half_done_login_is_refused(api, clock):
    secret, _ = await staff_with_totp(api, clock, "slow.staff@example.com")
    await admin_login(api, "slow.staff@example.com", PASSWORD)
    page = await api.get(CODE_STEP)
    await MfaChallenge.objects.aupdate(expires_at=timezone.now() - timedelta(seconds=1))
    late = await api.post(
        CODE_STEP,
        data={"code": code(secret, clock.step()), "csrfmiddlewaretoken": csrf_token(page.text)},
    )
    assert late.status_code == 302
    assert urlsplit(late.headers["location"]).path == "/admin/login/"
    assert not await has_admin_session(api)


async def test_a_password_change_meanwhile_ends_the_half_done_login(api, clock):
    secret, _ = await staff_with_totp(api, clock, "changed.staff@example.com")
    await admin_login(api, "changed.staff@example.com", PASSWORD)
    page = await api.get(CODE_STEP)
    user = await User.objects.aget(email="changed.staff@example.com")
    user.set_password("a-new-operator-passphrase")
    await user.asave()
    response = await api.post(
        CODE_STEP,
        data={"code": code(secret, clock.step()), "csrfmiddlewaretoken": csrf_token(page.text)},
    )
    assert response.status_code == 302
    assert urlsplit(response.headers["location"]).path == "/admin/login/"
    assert not await has_admin_session(api)


async def test_the_code_step_without_a_password_first_goes_back_to_the_login(api, clock):
    response = await api.get(CODE_STEP, params={"next": "/admin/accounts/user/"})
    assert response.status_code == 302
    assert urlsplit(response.headers["location"]).path == "/admin/login/"
    assert (await api.get(SETUP_STEP)).status_code == 302


async def test_the_login_keeps_its_next_page_through_the_code_step(api, clock):
    secret, _ = await staff_with_totp(api, clock, "next.staff@example.com")
    page = await api.get("/admin/login/", params={"next": "/admin/accounts/user/"})
    response = await api.post(
        "/admin/login/?next=/admin/accounts/user/",
        data={
            "username": "next.staff@example.com",
            "password": PASSWORD,
            "next": "/admin/accounts/user/",
            "csrfmiddlewaretoken": csrf_token(page.text),
        },
    )
    assert urlsplit(response.headers["location"]).path == CODE_STEP
    done = await answer(api, CODE_STEP, code(secret, clock.step()))
    assert done.headers["location"] == "/admin/accounts/user/"


async def test_staff_without_totp_sign_in_with_the_password_when_it_is_not_required(api, clock):
    await staff_member("plain.staff@example.com")
    response = await admin_login(api, "plain.staff@example.com", PASSWORD)
    assert response.status_code == 302 and response.headers["location"] == "/admin/"
    assert await has_admin_session(api)


async def test_required_mfa_sends_staff_without_totp_to_set_it_up_first(api, clock, settings):
    settings.ADMIN_REQUIRE_MFA = True
    await staff_member("new.staff@example.com")
    response = await admin_login(api, "new.staff@example.com", PASSWORD)
    assert response.status_code == 302
    assert urlsplit(response.headers["location"]).path == SETUP_STEP
    assert not await has_admin_session(api)
    page = await api.get(SETUP_STEP)
    assert page.status_code == 200
    assert "<svg" in page.text and "admin/css/login.css" in page.text
    match = SECRET.search(page.text)
    assert match, page.text[:2000]
    secret = match.group(1)
    assert "otpauth://totp/" in page.text
    wrong = await answer(api, SETUP_STEP, "000000")
    assert wrong.status_code == 200 and "Invalid code" in wrong.text
    assert not await has_admin_session(api)
    assert not await TOTPDevice.objects.filter(confirmed_at__isnull=False).aexists()
    done = await answer(api, SETUP_STEP, code(secret, clock.step()))
    assert done.status_code == 200
    shown = RECOVERY_CODE.findall(done.text)
    assert len(shown) == 10
    assert await RecoveryCode.objects.acount() == 10
    assert await TOTPDevice.objects.filter(confirmed_at__isnull=False).aexists()
    assert await AuthEvent.objects.filter(type="mfa_enabled").aexists()
    assert await has_admin_session(api)
    # The codes were shown once: nothing shows them again, and the next login asks for a code.
    assert (await api.get(SETUP_STEP)).status_code == 302
    await logout(api)
    clock.now += 30
    response = await admin_login(api, "new.staff@example.com", PASSWORD)
    assert urlsplit(response.headers["location"]).path == CODE_STEP
    assert (await answer(api, CODE_STEP, shown[0])).status_code == 302
    assert await has_admin_session(api)


async def test_required_mfa_still_asks_staff_with_totp_for_their_code(api, clock, settings):
    settings.ADMIN_REQUIRE_MFA = True
    secret, _ = await staff_with_totp(api, clock, "required.staff@example.com")
    response = await admin_login(api, "required.staff@example.com", PASSWORD)
    assert urlsplit(response.headers["location"]).path == CODE_STEP
    assert (await answer(api, CODE_STEP, code(secret, clock.step()))).status_code == 302
    assert await has_admin_session(api)


async def test_the_second_step_is_throttled_per_address_and_by_the_code_budgets(
    api, clock, settings
):
    secret, _ = await staff_with_totp(api, clock, "throttled.staff@example.com")
    settings.RATE_LIMITS = True
    settings.RATE_LIMIT_MFA_FAILED = Rate(count=3, period=900)
    await admin_login(api, "throttled.staff@example.com", PASSWORD)
    statuses = [(await answer(api, CODE_STEP, "000000")).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    refused = await answer(api, CODE_STEP, code(secret, clock.step()))
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) >= 1
    assert not await has_admin_session(api)
    # Every post to a step of the login counts per client address too.
    await ThrottleCounter.objects.all().adelete()
    settings.RATE_LIMIT_ADMIN_LOGIN = Rate(count=2, period=900)
    await admin_login(api, "throttled.staff@example.com", PASSWORD)
    statuses = [(await answer(api, CODE_STEP, "000000")).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]


def test_admin_require_mfa_is_on_in_production_unless_turned_off():
    required = "settings.ADMIN_REQUIRE_MFA"
    assert print_setting(required, **PRODUCTION) == "True"
    assert print_setting(required, **PRODUCTION, ADMIN_REQUIRE_MFA="off") == "False"
    assert print_setting(required) == "False"
    assert print_setting(required, ADMIN_REQUIRE_MFA="on") == "True"
