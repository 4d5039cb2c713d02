"""A password reset for a user with a second factor: the password is set and every session
ends, but the answer is the sign-in's challenge, never a session; the session comes from
/api/auth/mfa/verify."""

import pytest

from accounts.models import AuthSession
from accounts.tokens import access_token_decode
from audit.models import AuthEvent
from mfa.models import MfaChallenge
from tests.accounts.helpers import bearer, signup
from tests.factories import DEFAULT_PASSWORD
from tests.mfa.helpers import MFA, code, totp_on
from tests.support.mail import link_token, only_message_to

pytestmark = pytest.mark.django_db(transaction=True)
NEW_PASSWORD = "a brand new passphrase"


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
    session = await signup(api, "second.factor.reset@example.com")
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
    session = await signup(api, "recovering.reset@example.com")
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
