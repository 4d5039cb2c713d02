"""Account deletion: DELETE /api/auth/me (fresh) ends every session and schedules the erasure,
sign-in answers as for a wrong password, the mailed link restores the account within the grace,
and `manage.py purge` then erases it leaving no row that names the user; a grace of 0 erases at
once."""

import json
from datetime import datetime, timedelta
from io import StringIO

import pytest
from asgiref.sync import sync_to_async
from django.apps import apps
from django.core.management import call_command
from django.utils import timezone

from accounts.flows.deletion import EMAIL_SCOPES
from accounts.models import AuthSession, EmailCode, ThrottleCounter, User
from accounts.throttles import counter_key
from audit.models import AuthEvent
from tests.accounts.flows.test_reauthentication import INSUFFICIENT
from tests.accounts.helpers import age_sessions, bearer, signin, signup, verified_signup
from tests.accounts.test_transport import cookie_header, cookie_signup
from tests.factories import DEFAULT_PASSWORD
from tests.mfa.helpers import clock, totp_on  # noqa: F401  # clock: a fixture
from tests.support.mail import link_token, only_message_to, sent_to

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgresql]
ME = "/api/auth/me"
NOTICE = "Your account is scheduled for deletion"
COOKIE = {"X-Auth-Transport": "cookie"}


async def delete_account(api, session: dict) -> dict:
    response = await api.delete(ME, headers=bearer(session))
    assert response.status_code == 202, response.text
    return response.json()


async def grace_over(email: str) -> None:
    await User.objects.filter(email=email).aupdate(
        delete_after=timezone.now() - timedelta(seconds=1)
    )


def purge() -> str:
    out = StringIO()
    call_command("purge", stdout=out)
    return out.getvalue()


def rows_naming(user_id: str, email: str) -> list[tuple[str, dict]]:
    """Every row of every table (auto-created ones too) with a value holding the user's id (any
    spelling) or address."""
    needles = {user_id, user_id.replace("-", ""), email.lower()}
    found = []
    for model in apps.get_models(include_auto_created=True):
        for row in model._default_manager.values():
            text = json.dumps(row, default=str).lower()
            if any(needle in text for needle in needles):
                found.append((model._meta.label, row))
    return found


async def test_deletion_ends_every_session_and_schedules_the_erasure(api, settings):
    first = await signup(api, "leaving@example.com")
    second = await signin(api, "leaving@example.com")
    before = timezone.now()
    answer = await delete_account(api, first)
    assert answer["message"] == "Account scheduled for deletion"
    delete_after = datetime.fromisoformat(answer["delete_after"])
    grace = timedelta(days=settings.ACCOUNT_DELETION_GRACE_DAYS)
    assert before + grace <= delete_after <= timezone.now() + grace
    for session in (first, second):
        assert (await api.get(ME, headers=bearer(session))).status_code == 401
        refreshed = await api.post(
            "/api/auth/refresh", json={"refresh_token": session["refresh_token"]}
        )
        assert refreshed.status_code == 401
        assert refreshed.json() == {"detail": "Invalid or expired refresh token"}
    reasons = {s.revoked_reason async for s in AuthSession.objects.all()}
    assert reasons == {"account_deletion"}
    event = await AuthEvent.objects.aget(type="account_deletion_requested")
    assert str(event.session_id) == str(await session_id_of(first))
    user = await User.objects.aget(email="leaving@example.com")
    assert not user.is_active and user.delete_after is not None
    assert abs(user.delete_after - delete_after) < timedelta(milliseconds=1)  # as answered
    notice = only_message_to("leaving@example.com", NOTICE)
    assert "http://localhost:3000/restore-account?token=" in notice.body


async def session_id_of(session: dict) -> str:
    import jwt

    return jwt.decode(session["access_token"], options={"verify_signature": False})["sid"]


async def test_a_scheduled_account_signs_in_as_a_wrong_password_would(api):
    session = await signup(api, "gone@example.com")
    await signup(api, "other@example.com")
    await delete_account(api, session)
    right = await api.post(
        "/api/auth/signin", json={"email": "gone@example.com", "password": DEFAULT_PASSWORD}
    )
    wrong = await api.post(
        "/api/auth/signin", json={"email": "other@example.com", "password": "not the password"}
    )
    assert right.status_code == wrong.status_code == 401
    assert right.content == wrong.content
    assert right.headers["www-authenticate"] == wrong.headers["www-authenticate"]
    # A code is asked for as for any address, and none is made or sent.
    asked = await api.post("/api/auth/email/code", json={"email": "gone@example.com"})
    assert asked.status_code == 202
    assert not await EmailCode.objects.filter(email="gone@example.com").aexists()
    assert [m.subject for m in sent_to("gone@example.com")] == [
        "Confirm your email address",
        NOTICE,
    ]
    # A reset link neither.
    await api.post("/api/auth/password/reset", json={"email": "gone@example.com"})
    assert "Reset your password" not in [m.subject for m in sent_to("gone@example.com")]


async def test_the_mailed_link_restores_the_account_within_the_grace(api):
    session = await signup(api, "back@example.com")
    await delete_account(api, session)
    token = link_token(only_message_to("back@example.com", NOTICE))
    restored = await api.post(f"{ME}/restore", json={"token": token})
    assert restored.status_code == 200
    assert restored.json() == {"message": "Account restored"}
    user = await User.objects.aget(email="back@example.com")
    assert user.is_active and user.delete_after is None
    assert (await api.get(ME, headers=bearer(session))).status_code == 401  # still signed out
    again = await signin(api, "back@example.com")
    assert (await api.get(ME, headers=bearer(again))).status_code == 200
    assert await AuthEvent.objects.filter(type="account_restored").acount() == 1
    # Single use; and purge leaves a restored account alone.
    replay = await api.post(f"{ME}/restore", json={"token": token})
    assert replay.status_code == 400
    assert replay.json() == {"detail": "Invalid or expired token"}
    await sync_to_async(purge)()
    assert await User.objects.filter(email="back@example.com").aexists()


async def test_a_restore_link_is_refused_once_the_grace_is_over_or_with_a_bad_token(api):
    session = await signup(api, "late@example.com")
    await delete_account(api, session)
    token = link_token(only_message_to("late@example.com", NOTICE))
    bad = await api.post(f"{ME}/restore", json={"token": "not-a-token"})
    assert bad.status_code == 400 and bad.json() == {"detail": "Invalid or expired token"}
    await grace_over("late@example.com")
    late = await api.post(f"{ME}/restore", json={"token": token})
    assert late.status_code == 400
    assert not (await User.objects.aget(email="late@example.com")).is_active


async def test_purge_keeps_the_account_within_the_grace_and_erases_it_after(
    api,
    settings,
    clock,  # noqa: F811  # the fixture
):
    settings.RATE_LIMITS = True  # so the throttles keep counters keyed by the address
    email = "erased@example.com"
    session = await verified_signup(api, email)
    user_id = session["user"]["id"]
    await totp_on(api, session, clock)
    await api.post("/api/auth/signin", json={"email": email, "password": "a wrong one"})
    await api.post("/api/auth/email/code", json={"email": email})
    await api.post("/api/auth/password/reset", json={"email": email})
    # Counter keys are digests, which the walk below cannot read: looked for by key.
    keyed = [counter_key(scope, email) for scope in EMAIL_SCOPES]
    keyed.append(counter_key("signin-failed-email-ip", f"{email} 127.0.0.1"))
    assert await ThrottleCounter.objects.filter(key__in=keyed).acount() == 4
    await delete_account(api, session)
    assert only_message_to(email, NOTICE)

    await sync_to_async(purge)()
    assert await User.objects.filter(pk=user_id).aexists()
    await grace_over(email)
    report = await sync_to_async(purge)()
    assert "1 erased account(s)" in report
    assert await sync_to_async(rows_naming)(user_id, email) == []
    assert not await ThrottleCounter.objects.filter(key__in=keyed).aexists()
    # The address is free again.
    assert (await signup(api, email))["user"]["id"] != user_id


async def test_a_grace_of_zero_erases_the_account_in_the_request(api, settings):
    settings.ACCOUNT_DELETION_GRACE_DAYS = 0
    session = await signup(api, "now@example.com")
    before = timezone.now()
    answer = await delete_account(api, session)
    assert before <= datetime.fromisoformat(answer["delete_after"]) <= timezone.now()
    assert await sync_to_async(rows_naming)(session["user"]["id"], "now@example.com") == []
    assert sent_to("now@example.com")[-1].subject != NOTICE  # nothing to restore: no message
    assert (await api.get(ME, headers=bearer(session))).status_code == 401


async def test_deleting_and_exporting_need_a_fresh_session(api, settings):
    session = await signup(api, "stale.delete@example.com")
    await age_sessions("stale.delete@example.com", settings.REAUTH_MAX_AGE + 1)
    for response in (
        await api.delete(ME, headers=bearer(session)),
        await api.get(f"{ME}/export", headers=bearer(session)),
    ):
        assert response.status_code == 401
        assert response.json() == {"detail": "Re-authentication required"}
        assert response.headers["www-authenticate"] == INSUFFICIENT
    assert (await User.objects.aget(email="stale.delete@example.com")).is_active
    await api.post(
        "/api/auth/reauthenticate", json={"password": DEFAULT_PASSWORD}, headers=bearer(session)
    )
    assert (await api.delete(ME, headers=bearer(session))).status_code == 202


def cleared(response, name: str) -> bool:
    return any(
        header.startswith(f"{name}=") and "Max-Age=0" in header
        for header in response.headers.get_list("set-cookie")
    )


async def test_in_cookie_mode_deletion_clears_both_cookies_and_a_stale_refusal_does_not(
    api, settings
):
    _, cookies = await cookie_signup(api, "cookies@example.com")
    sent = {**COOKIE, **cookie_header(cookies)}
    await age_sessions("cookies@example.com", settings.REAUTH_MAX_AGE + 1)
    stale = await api.delete(ME, headers=sent)
    assert stale.status_code == 401
    assert stale.headers.get_list("set-cookie") == []
    again = await api.post(
        "/api/auth/reauthenticate", json={"password": DEFAULT_PASSWORD}, headers=sent
    )
    assert again.status_code == 200, again.text
    deleted = await api.delete(ME, headers=sent)
    assert deleted.status_code == 202, deleted.text
    assert cleared(deleted, "__Host-access") and cleared(deleted, "__Host-refresh")


async def test_deletion_by_cookie_without_the_header_is_refused_by_the_csrf_rule(api):
    _, cookies = await cookie_signup(api, "csrf.delete@example.com")
    refused = await api.delete(ME, headers=cookie_header(cookies))
    assert refused.status_code == 403
    assert (await User.objects.aget(email="csrf.delete@example.com")).is_active
