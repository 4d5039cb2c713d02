"""The second step with TOTP on: the challenge a sign-in (or a password reset) answers instead
of a session, /mfa/verify, and the token's life (single use, five minutes, five wrong codes)."""

from datetime import timedelta

import django.contrib.auth.hashers
import pytest
from django.utils import timezone

import accounts.hashing
from accounts.models import AuthSession
from accounts.tokens import access_token_decode
from audit.models import AuthEvent
from mfa.models import MfaChallenge
from tests.accounts.helpers import bearer, change_password, confirm_reset, signup, verified_signup
from tests.factories import DEFAULT_PASSWORD
from tests.mfa.helpers import MFA, code, totp_on
from tests.support.mail import link_token, only_message_to
from toolkit.rates import Rate

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "correct horse battery staple"
VERIFY = f"{MFA}/verify"
NEW_PASSWORD = "a brand new passphrase"


async def challenge_for(api, email: str) -> dict:
    response = await api.post("/api/auth/signin", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return response.json()


async def test_signin_with_totp_on_answers_a_challenge_and_no_session(api, clock):
    session = await verified_signup(api, "challenged@example.com")
    await totp_on(api, session, clock)
    response = await api.post(
        "/api/auth/signin", json={"email": "challenged@example.com", "password": PASSWORD}
    )
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert set(body) == {"mfa_required", "mfa_token", "methods", "expires_in"}
    assert body["mfa_required"] is True
    assert body["methods"] == ["totp", "recovery_code"]
    assert body["expires_in"] == 300
    assert len(body["mfa_token"]) >= 40
    stored = await MfaChallenge.objects.aget()
    assert stored.token_hash != body["mfa_token"] and len(stored.token_hash) == 64


async def test_signin_without_totp_is_unchanged(api, clock):
    await verified_signup(api, "plain@example.com")
    body = await challenge_for(api, "plain@example.com")
    assert set(body) == {"user", "access_token", "refresh_token", "token_type", "expires_in"}
    # A pending (unconfirmed) setup does not turn the second step on either.
    await api.post(f"{MFA}/totp/setup", headers=bearer(body))
    assert "access_token" in await challenge_for(api, "plain@example.com")


async def test_verify_with_a_totp_code_answers_the_session(api, clock):
    session = await verified_signup(api, "verify@example.com")
    secret, _ = await totp_on(api, session, clock)
    challenge = await challenge_for(api, "verify@example.com")
    response = await api.post(
        VERIFY, json={"mfa_token": challenge["mfa_token"], "code": code(secret, clock.step())}
    )
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    signed_in = response.json()
    assert signed_in["user"]["email"] == "verify@example.com"
    assert signed_in["token_type"] == "bearer"
    assert (await api.get("/api/auth/me", headers=bearer(signed_in))).status_code == 200


async def test_the_password_is_hashed_once_per_signin_never_at_verify(api, clock, monkeypatch):
    session = await verified_signup(api, "hashonce@example.com")
    secret, _ = await totp_on(api, session, clock)
    checks = []
    real_check = django.contrib.auth.hashers.check_password

    def counting_check(*args, **kwargs):
        checks.append(1)
        return real_check(*args, **kwargs)

    monkeypatch.setattr(accounts.hashing, "check_password", counting_check)
    challenge = await challenge_for(api, "hashonce@example.com")
    await api.post(
        VERIFY, json={"mfa_token": challenge["mfa_token"], "code": code(secret, clock.step())}
    )
    assert len(checks) == 1


async def test_a_used_mfa_token_is_refused(api, clock):
    session = await verified_signup(api, "reused@example.com")
    secret, _ = await totp_on(api, session, clock)
    challenge = await challenge_for(api, "reused@example.com")
    first = await api.post(
        VERIFY, json={"mfa_token": challenge["mfa_token"], "code": code(secret, clock.step())}
    )
    assert first.status_code == 200
    again = await api.post(
        VERIFY, json={"mfa_token": challenge["mfa_token"], "code": code(secret, clock.step() + 1)}
    )
    assert again.status_code == 401
    assert again.json() == {"detail": "Invalid code"}
    assert again.headers["www-authenticate"].startswith("Bearer")


async def test_an_expired_mfa_token_is_refused(api, clock):
    session = await verified_signup(api, "expired@example.com")
    secret, _ = await totp_on(api, session, clock)
    challenge = await challenge_for(api, "expired@example.com")
    await MfaChallenge.objects.aupdate(expires_at=timezone.now() - timedelta(seconds=1))
    response = await api.post(
        VERIFY, json={"mfa_token": challenge["mfa_token"], "code": code(secret, clock.step())}
    )
    assert response.status_code == 401


async def test_the_token_expires_five_minutes_after_the_signin(api, clock):
    session = await verified_signup(api, "fivemin@example.com")
    await totp_on(api, session, clock)
    before = timezone.now()
    await challenge_for(api, "fivemin@example.com")
    stored = await MfaChallenge.objects.aget()
    assert timedelta(seconds=299) <= stored.expires_at - before <= timedelta(seconds=301)


async def test_the_token_dies_after_five_wrong_codes(api, clock):
    session = await verified_signup(api, "fivewrong@example.com")
    secret, _ = await totp_on(api, session, clock)
    challenge = await challenge_for(api, "fivewrong@example.com")
    for _ in range(5):
        wrong = await api.post(VERIFY, json={"mfa_token": challenge["mfa_token"], "code": "000000"})
        assert wrong.status_code == 401
    right = await api.post(
        VERIFY, json={"mfa_token": challenge["mfa_token"], "code": code(secret, clock.step())}
    )
    assert right.status_code == 401
    fresh = await challenge_for(api, "fivewrong@example.com")
    ok = await api.post(
        VERIFY, json={"mfa_token": fresh["mfa_token"], "code": code(secret, clock.step())}
    )
    assert ok.status_code == 200


async def test_an_unknown_mfa_token_is_401(api, clock):
    response = await api.post(VERIFY, json={"mfa_token": "nope", "code": "123456"})
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid code"}


async def test_a_totp_code_used_at_signin_is_refused_at_the_next_signin(api, clock):
    session = await verified_signup(api, "signinreplay@example.com")
    secret, _ = await totp_on(api, session, clock)
    used = code(secret, clock.step())
    first = await challenge_for(api, "signinreplay@example.com")
    assert (await api.post(VERIFY, json={"mfa_token": first["mfa_token"], "code": used})).is_success
    second = await challenge_for(api, "signinreplay@example.com")
    replay = await api.post(VERIFY, json={"mfa_token": second["mfa_token"], "code": used})
    assert replay.status_code == 401


async def test_a_recovery_code_signs_in_once(api, clock):
    session = await verified_signup(api, "recovery@example.com")
    _, codes = await totp_on(api, session, clock)
    first = await challenge_for(api, "recovery@example.com")
    spaced = codes[0].upper().replace("-", " ")  # as a person might type it
    response = await api.post(VERIFY, json={"mfa_token": first["mfa_token"], "code": spaced})
    assert response.status_code == 200
    second = await challenge_for(api, "recovery@example.com")
    again = await api.post(VERIFY, json={"mfa_token": second["mfa_token"], "code": codes[0]})
    assert again.status_code == 401
    other = await api.post(VERIFY, json={"mfa_token": second["mfa_token"], "code": codes[1]})
    assert other.status_code == 200


async def test_wrong_codes_at_verify_are_throttled_per_user_across_tokens(api, clock, settings):
    settings.RATE_LIMITS = True
    settings.RATE_LIMIT_MFA_FAILED = Rate(count=3, period=900)
    session = await verified_signup(api, "verifyguess@example.com")
    secret, _ = await totp_on(api, session, clock)
    statuses = []
    for _ in range(2):
        challenge = await challenge_for(api, "verifyguess@example.com")
        for _ in range(2):
            wrong = await api.post(
                VERIFY, json={"mfa_token": challenge["mfa_token"], "code": "000000"}
            )
            statuses.append(wrong.status_code)
    assert statuses == [401, 401, 401, 429]
    challenge = await challenge_for(api, "verifyguess@example.com")
    refused = await api.post(
        VERIFY, json={"mfa_token": challenge["mfa_token"], "code": code(secret, clock.step())}
    )
    assert refused.status_code == 429


async def test_purge_drops_expired_and_used_challenges(api, clock):
    from io import StringIO

    from asgiref.sync import sync_to_async
    from django.core.management import call_command

    session = await verified_signup(api, "purgechallenges@example.com")
    secret, _ = await totp_on(api, session, clock)
    used = await challenge_for(api, "purgechallenges@example.com")
    await api.post(
        VERIFY, json={"mfa_token": used["mfa_token"], "code": code(secret, clock.step())}
    )
    await challenge_for(api, "purgechallenges@example.com")  # expired below
    live = await challenge_for(api, "purgechallenges@example.com")
    expired = await MfaChallenge.objects.order_by("id")[1:2].aget()
    expired.expires_at = timezone.now() - timedelta(seconds=1)
    await expired.asave()
    out = StringIO()
    await sync_to_async(call_command)("purge", stdout=out)
    assert " 2 second-factor challenge(s)" in out.getvalue()
    clock.now += 30
    ok = await api.post(
        VERIFY, json={"mfa_token": live["mfa_token"], "code": code(secret, clock.step())}
    )
    assert ok.status_code == 200


async def test_one_recovery_code_sent_twice_at_once_signs_in_once(api, clock):
    import asyncio

    session = await verified_signup(api, "racer@example.com")
    _, codes = await totp_on(api, session, clock)
    tokens = [(await challenge_for(api, "racer@example.com"))["mfa_token"] for _ in range(2)]
    answers = await asyncio.gather(
        *(api.post(VERIFY, json={"mfa_token": token, "code": codes[0]}) for token in tokens)
    )
    assert sorted(answer.status_code for answer in answers) == [200, 401]


async def test_one_totp_code_sent_twice_at_once_signs_in_once(api, clock):
    import asyncio

    session = await verified_signup(api, "totpracer@example.com")
    secret, _ = await totp_on(api, session, clock)
    tokens = [(await challenge_for(api, "totpracer@example.com"))["mfa_token"] for _ in range(2)]
    now = code(secret, clock.step())
    answers = await asyncio.gather(
        *(api.post(VERIFY, json={"mfa_token": token, "code": now}) for token in tokens)
    )
    assert sorted(answer.status_code for answer in answers) == [200, 401]


async def test_verify_for_a_user_deactivated_meanwhile_is_401(api, clock):
    from accounts.models import User

    session = await verified_signup(api, "deactivated@example.com")
    secret, _ = await totp_on(api, session, clock)
    challenge = await challenge_for(api, "deactivated@example.com")
    await User.objects.filter(email="deactivated@example.com").aupdate(is_active=False)
    response = await api.post(
        VERIFY, json={"mfa_token": challenge["mfa_token"], "code": code(secret, clock.step())}
    )
    assert response.status_code == 401


async def answer(api, challenge: dict, secret: str, clock) -> int:
    response = await api.post(
        VERIFY, json={"mfa_token": challenge["mfa_token"], "code": code(secret, clock.step())}
    )
    return response.status_code


async def test_a_challenge_dies_when_the_password_changes(api, clock):
    session = await verified_signup(api, "changed.meanwhile@example.com")
    secret, _ = await totp_on(api, session, clock)
    challenge = await challenge_for(api, "changed.meanwhile@example.com")
    changed = await change_password(api, session, "the owner's new passphrase", PASSWORD)
    assert changed.status_code == 200
    assert await answer(api, challenge, secret, clock) == 401
    assert not await MfaChallenge.objects.aexists()


async def test_a_challenge_dies_when_the_password_is_reset(api, clock):
    session = await verified_signup(api, "reset.meanwhile@example.com")
    secret, _ = await totp_on(api, session, clock)
    challenge = await challenge_for(api, "reset.meanwhile@example.com")
    await api.post("/api/auth/password/reset", json={"email": "reset.meanwhile@example.com"})
    reset = await confirm_reset(api, "reset.meanwhile@example.com", "the owner's new passphrase")
    assert reset.status_code == 200
    assert await answer(api, challenge, secret, clock) == 401


async def deactivate_in_a_shell(api, user_id: str) -> None:
    from asgiref.sync import sync_to_async

    from accounts.models import User

    def deactivate() -> None:
        user = User.objects.get(pk=user_id)
        user.is_active = False
        user.save()

    await sync_to_async(deactivate)()


async def deactivate_with_the_admin_form(api, user_id: str) -> None:
    from accounts.models import AuthSession, User
    from tests.accounts.test_admin import admin_login, csrf_token

    await User.objects.acreate_user(
        "deactivator@example.com", "operator-passphrase", is_staff=True, is_superuser=True
    )
    assert (await admin_login(api, "deactivator@example.com", "operator-passphrase")).is_redirect
    user = await User.objects.aget(pk=user_id)
    sessions = [s.pk async for s in AuthSession.objects.filter(user_id=user_id)]
    page = await api.get(f"/admin/accounts/user/{user_id}/change/")
    data = {
        "email": user.email,
        "is_active": "",  # unticked
        "auth_sessions-TOTAL_FORMS": str(len(sessions)),
        "auth_sessions-INITIAL_FORMS": str(len(sessions)),
        "auth_sessions-MIN_NUM_FORMS": "0",
        "auth_sessions-MAX_NUM_FORMS": "1000",
        "csrfmiddlewaretoken": csrf_token(page.text),
    }
    for n, pk in enumerate(sessions):
        data |= {f"auth_sessions-{n}-id": str(pk), f"auth_sessions-{n}-user": user_id}
    response = await api.post(f"/admin/accounts/user/{user_id}/change/", data=data)
    assert response.status_code == 302, response.text[:2000]


@pytest.mark.parametrize("deactivate", [deactivate_in_a_shell, deactivate_with_the_admin_form])
async def test_a_challenge_dies_when_the_user_is_deactivated_even_once_active_again(
    api, clock, deactivate
):
    from accounts.models import User

    email = f"{deactivate.__name__.replace('_', '.')}@example.com"
    session = await verified_signup(api, email)
    secret, _ = await totp_on(api, session, clock)
    challenge = await challenge_for(api, email)
    await deactivate(api, session["user"]["id"])
    assert not (await User.objects.aget(email=email)).is_active
    await User.objects.filter(email=email).aupdate(is_active=True)
    assert await answer(api, challenge, secret, clock) == 401
    fresh = await challenge_for(api, email)
    assert await answer(api, fresh, secret, clock) == 200


async def test_a_challenge_dies_when_totp_is_turned_off(api, clock):
    session = await verified_signup(api, "off.meanwhile@example.com")
    secret, codes = await totp_on(api, session, clock)
    challenge = await challenge_for(api, "off.meanwhile@example.com")
    off = await api.post(
        f"{MFA}/totp/disable",
        json={"current_password": PASSWORD, "code": codes[0]},
        headers=bearer(session),
    )
    assert off.status_code == 200
    assert await answer(api, challenge, secret, clock) == 401


async def reset(api, email: str) -> dict:
    await api.post("/api/auth/password/reset", json={"email": email})
    token = link_token(only_message_to(email, "Reset your password"))
    response = await api.post(
        "/api/auth/password/reset/confirm", json={"token": token, "new_password": NEW_PASSWORD}
    )
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    return response.json()


async def test_reset_with_totp_on_answers_the_challenge_and_no_session(api, clock):
    session = await verified_signup(api, "second.factor.reset@example.com")
    secret, _ = await totp_on(api, session, clock)
    answer = await reset(api, "second.factor.reset@example.com")
    assert set(answer) == {"mfa_required", "mfa_token", "methods", "expires_in"}
    assert answer["mfa_required"] is True
    assert answer["methods"] == ["totp", "recovery_code"] and answer["expires_in"] == 300
    # The password is set and every session ended; none was opened.
    assert (await api.get("/api/auth/me", headers=bearer(session))).status_code == 401
    user_id = session["user"]["id"]
    assert not await AuthSession.objects.filter(user_id=user_id, revoked_at__isnull=True).aexists()
    old = await api.post(
        "/api/auth/signin",
        json={"email": "second.factor.reset@example.com", "password": DEFAULT_PASSWORD},
    )
    assert old.status_code == 401
    event = await AuthEvent.objects.aget(user_id=user_id, type="password_reset")
    assert event.session_id is None
    assert not await AuthEvent.objects.filter(user_id=user_id, type="signin").aexists()

    verified = await api.post(
        f"{MFA}/verify",
        json={"mfa_token": answer["mfa_token"], "code": code(secret, clock.step())},
    )
    assert verified.status_code == 200, verified.text
    fresh = verified.json()
    assert fresh["user"]["email_verified"] is True
    assert (await api.get("/api/auth/me", headers=bearer(fresh))).status_code == 200
    signin = await AuthEvent.objects.aget(user_id=user_id, type="signin")
    assert signin.session_id == access_token_decode(fresh["access_token"]).session_id


async def test_the_reset_challenge_takes_a_recovery_code_once(api, clock):
    session = await verified_signup(api, "recovering.reset@example.com")
    _, codes = await totp_on(api, session, clock)
    answer = await reset(api, "recovering.reset@example.com")
    first = await api.post(
        f"{MFA}/verify", json={"mfa_token": answer["mfa_token"], "code": codes[0]}
    )
    assert first.status_code == 200
    again = await api.post(
        f"{MFA}/verify", json={"mfa_token": answer["mfa_token"], "code": codes[1]}
    )
    assert again.status_code == 401
    assert await MfaChallenge.objects.acount() == 1  # used, not live


async def test_reset_without_a_second_factor_still_answers_a_session(api, clock):
    session = await signup(api, "no.second.factor@example.com")
    answer = await reset(api, "no.second.factor@example.com")
    assert set(answer) == {"user", "access_token", "refresh_token", "token_type", "expires_in"}
    assert (await api.get("/api/auth/me", headers=bearer(session))).status_code == 401
    assert (await api.get("/api/auth/me", headers=bearer(answer))).status_code == 200
