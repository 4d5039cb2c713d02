"""Re-authentication and the fresh-session rule: a session is fresh for REAUTH_MAX_AGE after its
sign-in or a re-authentication; routes that need one (turning TOTP on, for a verified address)
answer 401
`insufficient_user_authentication` otherwise, and POST /api/auth/reauthenticate makes it fresh
again with the password or a second-factor code."""

import pytest

from accounts.models import AuthSession
from audit.models import AuthEvent
from tests.accounts.helpers import address_verify, age_sessions, bearer, signup, verified_signup
from tests.factories import DEFAULT_PASSWORD
from tests.mfa.helpers import MFA, clock, code, totp_on  # noqa: F401  # clock: a fixture
from toolkit.rates import Rate

pytestmark = pytest.mark.django_db(transaction=True)

REAUTHENTICATE = "/api/auth/reauthenticate"
FRESH_ROUTE = f"{MFA}/totp/setup"
INSUFFICIENT = 'Bearer error="insufficient_user_authentication"'


async def test_a_session_just_signed_in_is_fresh(api):
    session = await verified_signup(api, "fresh@example.com")
    assert (await api.post(FRESH_ROUTE, headers=bearer(session))).status_code == 200


async def test_a_stale_session_must_reauthenticate_with_rfc_9470s_answer(api, settings):
    session = await signup(api, "stale@example.com")
    await age_sessions("stale@example.com", settings.REAUTH_MAX_AGE + 1)
    response = await api.post(FRESH_ROUTE, headers=bearer(session))
    assert response.status_code == 401
    assert response.json() == {"detail": "Re-authentication required"}
    assert response.headers["www-authenticate"] == INSUFFICIENT
    # The session itself still works for everything else.
    assert (await api.get("/api/auth/me", headers=bearer(session))).status_code == 200


async def test_reauthenticating_with_the_password_makes_the_session_fresh_again(api, settings):
    session = await verified_signup(api, "again@example.com")
    await age_sessions("again@example.com", settings.REAUTH_MAX_AGE + 1)
    response = await api.post(
        REAUTHENTICATE, json={"password": DEFAULT_PASSWORD}, headers=bearer(session)
    )
    assert response.status_code == 200, response.text
    assert set(response.json()) == {"reauthenticated_at"}
    assert response.headers["cache-control"] == "no-store"
    assert (await api.post(FRESH_ROUTE, headers=bearer(session))).status_code == 200
    event = await AuthEvent.objects.aget(type="reauthenticated")
    assert event.detail == {"method": "password"}
    assert event.session_id == (await AuthSession.objects.aget(user__email="again@example.com")).pk
    listed = (await api.get("/api/auth/events", headers=bearer(session))).json()["items"]
    assert listed[0]["type"] == "reauthenticated" and listed[0]["method"] == "password"


async def test_freshness_ends_after_reauth_max_age(api, settings):
    session = await signup(api, "fading@example.com")
    await api.post(REAUTHENTICATE, json={"password": DEFAULT_PASSWORD}, headers=bearer(session))
    await age_sessions("fading@example.com", settings.REAUTH_MAX_AGE + 1)
    assert (await api.post(FRESH_ROUTE, headers=bearer(session))).status_code == 401


async def test_a_wrong_password_is_401_and_leaves_the_session_stale(api, settings):
    session = await signup(api, "wrong.again@example.com")
    await age_sessions("wrong.again@example.com", settings.REAUTH_MAX_AGE + 1)
    response = await api.post(
        REAUTHENTICATE, json={"password": "not-the-password"}, headers=bearer(session)
    )
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid credentials"}
    assert response.headers["www-authenticate"] == "Bearer"
    assert (await api.post(FRESH_ROUTE, headers=bearer(session))).status_code == 401
    assert not await AuthEvent.objects.filter(type="reauthenticated").aexists()
    failed = await AuthEvent.objects.aget(type="signin_failed")
    assert failed.detail == {"during": "reauthenticate"}


async def test_wrong_passwords_spend_the_sign_in_failure_budget(api, settings):
    settings.RATE_LIMITS = True
    settings.RATE_LIMIT_SIGNIN_FAILED = Rate(count=3, period=900)
    session = await signup(api, "budget.again@example.com")
    for _ in range(3):
        wrong = await api.post(
            REAUTHENTICATE, json={"password": "not-the-password"}, headers=bearer(session)
        )
        assert wrong.status_code == 401
    over = await api.post(
        REAUTHENTICATE, json={"password": DEFAULT_PASSWORD}, headers=bearer(session)
    )
    assert over.status_code == 429
    # The same budget as sign-in's: the password cannot be guessed here instead.
    signin = await api.post(
        "/api/auth/signin",
        json={"email": "budget.again@example.com", "password": DEFAULT_PASSWORD},
    )
    assert signin.status_code == 429


async def test_a_totp_or_recovery_code_reauthenticates_a_user_with_totp(api, clock, settings):  # noqa: F811
    session = await verified_signup(api, "code.again@example.com")
    secret, recovery_codes = await totp_on(api, session, clock)
    await age_sessions("code.again@example.com", settings.REAUTH_MAX_AGE + 1)
    by_totp = await api.post(
        REAUTHENTICATE, json={"code": code(secret, clock.step())}, headers=bearer(session)
    )
    assert by_totp.status_code == 200, by_totp.text
    by_recovery = await api.post(
        REAUTHENTICATE, json={"code": recovery_codes[0]}, headers=bearer(session)
    )
    assert by_recovery.status_code == 200
    methods = [e.detail["method"] async for e in AuthEvent.objects.filter(type="reauthenticated")]
    assert sorted(methods) == ["recovery_code", "totp"]
    # Each code is spent: the same one again is refused.
    replay = await api.post(
        REAUTHENTICATE, json={"code": recovery_codes[0]}, headers=bearer(session)
    )
    assert replay.status_code == 401


async def test_a_wrong_code_or_a_code_without_totp_is_401(api, clock):  # noqa: F811
    without = await verified_signup(api, "no.totp.again@example.com")
    response = await api.post(REAUTHENTICATE, json={"code": "123456"}, headers=bearer(without))
    assert response.status_code == 401
    session = await verified_signup(api, "wrong.code.again@example.com")
    await totp_on(api, session, clock)
    wrong = await api.post(REAUTHENTICATE, json={"code": "000000"}, headers=bearer(session))
    assert wrong.status_code == 401
    assert await AuthEvent.objects.filter(type="mfa_failed").aexists()


@pytest.mark.parametrize(
    "body", [{}, {"password": DEFAULT_PASSWORD, "code": "123456"}, {"password": ""}]
)
async def test_reauthenticate_needs_exactly_one_proof(api, body):
    session = await signup(api, "one.proof@example.com")
    response = await api.post(REAUTHENTICATE, json=body, headers=bearer(session))
    assert response.status_code == 422
    assert "input" not in response.text


async def test_reauthenticate_needs_a_session(api):
    response = await api.post(REAUTHENTICATE, json={"password": DEFAULT_PASSWORD})
    assert response.status_code == 401


async def test_the_rule_and_reauthentication_work_the_same_with_the_access_cookie(api, settings):
    signed_up = await api.post(
        "/api/auth/signup",
        json={"email": "cookie.again@example.com", "password": DEFAULT_PASSWORD},
        headers={"X-Auth-Transport": "cookie"},
    )
    access = signed_up.cookies.get("__Host-access") or signed_up.json()["access_token"]
    await address_verify(api, "cookie.again@example.com")  # the route adds a credential
    browser = {"Cookie": f"__Host-access={access}", "X-Auth-Transport": "cookie"}
    await age_sessions("cookie.again@example.com", settings.REAUTH_MAX_AGE + 1)
    stale = await api.post(FRESH_ROUTE, headers=browser)
    assert stale.status_code == 401
    assert stale.headers["www-authenticate"] == INSUFFICIENT
    again = await api.post(REAUTHENTICATE, json={"password": DEFAULT_PASSWORD}, headers=browser)
    assert again.status_code == 200
    assert (await api.post(FRESH_ROUTE, headers=browser)).status_code == 200


EXPORT = "/api/auth/me/export"


async def refreshed(api, session: dict) -> dict:
    response = await api.post("/api/auth/refresh", json={"refresh_token": session["refresh_token"]})
    assert response.status_code == 200, response.text
    return response.json()


async def owner_and_thief(api, email: str) -> tuple[dict, dict]:
    """The owner signs in and refreshes; a thief replays the owner's used refresh token within
    REFRESH_REUSE_GRACE and gets an answer of their own, on the same session."""
    signed_up = await signup(api, email)
    owner = await refreshed(api, signed_up)
    thief = await refreshed(api, signed_up)
    return owner, thief


async def test_a_grace_replay_is_not_fresh_from_the_sign_in_it_follows(api):
    owner, thief = await owner_and_thief(api, "signed.in.owner@example.com")
    assert (await api.get(EXPORT, headers=bearer(owner))).status_code == 200
    refused = await api.get(EXPORT, headers=bearer(thief))
    assert refused.status_code == 401
    assert refused.json() == {"detail": "Re-authentication required"}
    assert refused.headers["www-authenticate"] == INSUFFICIENT
    # Not a dead session: only the dangerous actions ask for more.
    assert (await api.get("/api/auth/me", headers=bearer(thief))).status_code == 200


async def test_the_owners_reauthentication_does_not_freshen_a_grace_replays_tokens(api, settings):
    owner, thief = await owner_and_thief(api, "reauth.owner@example.com")
    await age_sessions("reauth.owner@example.com", settings.REAUTH_MAX_AGE + 1)
    for session in (owner, thief):
        assert (await api.get(EXPORT, headers=bearer(session))).status_code == 401
    again = await api.post(
        REAUTHENTICATE, json={"password": DEFAULT_PASSWORD}, headers=bearer(owner)
    )
    assert again.status_code == 200
    assert (await api.get(EXPORT, headers=bearer(owner))).status_code == 200
    for path in ("/api/auth/passkeys/register/options", FRESH_ROUTE):
        assert (await api.post(path, headers=bearer(thief))).status_code == 401, path
    assert (await api.get(EXPORT, headers=bearer(thief))).status_code == 401
    # Nor do the thief's next rotations inherit it.
    assert (await api.get(EXPORT, headers=bearer(await refreshed(api, thief)))).status_code == 401


async def test_rotation_keeps_the_freshness_of_its_chain(api, settings):
    signed_up = await signup(api, "rotating.fresh@example.com")
    rotated = await refreshed(api, signed_up)
    assert (await api.get(EXPORT, headers=bearer(rotated))).status_code == 200  # the sign-in's
    await age_sessions("rotating.fresh@example.com", settings.REAUTH_MAX_AGE + 1)
    assert (await api.get(EXPORT, headers=bearer(rotated))).status_code == 401
    again = await api.post(
        REAUTHENTICATE, json={"password": DEFAULT_PASSWORD}, headers=bearer(rotated)
    )
    assert again.status_code == 200
    later = await refreshed(api, await refreshed(api, rotated))
    assert (await api.get(EXPORT, headers=bearer(later))).status_code == 200


async def test_a_second_tab_reauthenticates_for_itself_alone(api, settings):
    first, second = await owner_and_thief(api, "two.tabs.fresh@example.com")
    await age_sessions("two.tabs.fresh@example.com", settings.REAUTH_MAX_AGE + 1)
    again = await api.post(
        REAUTHENTICATE, json={"password": DEFAULT_PASSWORD}, headers=bearer(second)
    )
    assert again.status_code == 200
    assert (await api.get(EXPORT, headers=bearer(second))).status_code == 200
    assert (await api.get(EXPORT, headers=bearer(first))).status_code == 401
    events = [e async for e in AuthEvent.objects.filter(type="reauthenticated")]
    session = await AuthSession.objects.aget(user__email="two.tabs.fresh@example.com")
    assert [event.session_id for event in events] == [session.pk]
    assert session.reauthenticated_at is not None  # the session's record, for the export
