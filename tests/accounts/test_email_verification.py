"""Email verification: the message sign-up sends, POST /api/auth/email/verify and .../resend,
and the REQUIRE_VERIFIED_EMAIL gate (immediate task backend, Django's locmem outbox)."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from accounts.models import EmailToken, EmailTokenPurpose, User
from tests.accounts.helpers import bearer, signin, signup
from tests.factories import DEFAULT_PASSWORD
from tests.support.mail import html_part, link_token, only_message_to, sent_to
from toolkit.rates import Rate

pytestmark = pytest.mark.django_db(transaction=True)
VERIFY = "/api/auth/email/verify"
RESEND = "/api/auth/email/verify/resend"
SUBJECT = "Confirm your email address"


async def test_signup_sends_a_verification_link_with_text_and_html_parts(api):
    await signup(api, "new.person@example.com")
    message = only_message_to("new.person@example.com", SUBJECT)
    assert "<html" in html_part(message)
    assert "http://localhost:3000/verify-email?token=" in message.body
    token = link_token(message)
    assert len(token) >= 22  # at least 128 random bits, URL-safe base64
    assert "new.person" not in message.body.split("token=")[1].split()[0]  # no address in a URL


async def test_the_token_is_stored_only_as_its_sha256(api):
    await signup(api, "hashed@example.com")
    token = link_token(only_message_to("hashed@example.com", SUBJECT))
    stored = await EmailToken.objects.aget(user__email="hashed@example.com")
    assert stored.purpose == EmailTokenPurpose.VERIFY_EMAIL
    assert token not in stored.token_hash and len(stored.token_hash) == 64


async def test_the_link_verifies_the_address_and_me_says_so(api):
    session = await signup(api, "verify.me@example.com")
    assert session["user"]["email_verified"] is False
    token = link_token(only_message_to("verify.me@example.com", SUBJECT))
    response = await api.post(VERIFY, json={"token": token})
    assert response.status_code == 200
    assert response.json() == {"message": "Email verified"}
    assert response.headers["cache-control"] == "no-store"
    me = (await api.get("/api/auth/me", headers=bearer(session))).json()
    assert list(me) == ["id", "email", "email_verified", "created_at"]
    assert me["email_verified"] is True


async def test_a_link_works_once(api):
    await signup(api, "once@example.com")
    token = link_token(only_message_to("once@example.com", SUBJECT))
    assert (await api.post(VERIFY, json={"token": token})).status_code == 200
    replay = await api.post(VERIFY, json={"token": token})
    assert replay.status_code == 400
    assert replay.json() == {"detail": "Invalid or expired token"}


async def test_an_expired_link_is_400(api):
    await signup(api, "late@example.com")
    token = link_token(only_message_to("late@example.com", SUBJECT))
    await EmailToken.objects.filter(user__email="late@example.com").aupdate(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    response = await api.post(VERIFY, json={"token": token})
    assert response.status_code == 400
    assert not (await User.objects.aget(email="late@example.com")).email_verified


@pytest.mark.parametrize("token", ["x", "A" * 43, "not a token at all", "%00", "A" * 256])
async def test_made_up_tokens_are_400_and_change_nothing(api, token):
    await signup(api, "untouched@example.com")
    response = await api.post(VERIFY, json={"token": token})
    assert response.status_code == 400
    assert response.json() == {"detail": "Invalid or expired token"}
    assert not (await User.objects.aget(email="untouched@example.com")).email_verified


async def test_an_empty_or_oversized_token_is_422(api):
    for token in ("", "A" * 257):
        response = await api.post(VERIFY, json={"token": token})
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["body", "token"]


async def test_a_reset_token_does_not_verify(api, users):
    await users.create("purpose@example.com")
    await api.post("/api/auth/password/reset", json={"email": "purpose@example.com"})
    token = link_token(only_message_to("purpose@example.com", "Reset your password"))
    assert (await api.post(VERIFY, json={"token": token})).status_code == 400


async def test_resend_sends_a_new_link_and_both_work_until_one_is_used(api):
    session = await signup(api, "resend@example.com")
    response = await api.post(RESEND, headers=bearer(session))
    assert response.status_code == 202
    assert response.json() == {"message": "Verification email sent"}
    messages = [m for m in sent_to("resend@example.com") if m.subject == SUBJECT]
    assert len(messages) == 2
    assert (await api.post(VERIFY, json={"token": link_token(messages[1])})).status_code == 200


async def test_a_verified_address_is_never_sent_a_verification_again(api):
    session = await signup(api, "verified.once@example.com")
    token = link_token(only_message_to("verified.once@example.com", SUBJECT))
    await api.post(VERIFY, json={"token": token})
    mail.outbox.clear()
    response = await api.post(RESEND, headers=bearer(session))
    assert response.status_code == 202
    assert response.json() == {"message": "Verification email sent"}
    assert sent_to("verified.once@example.com") == []


async def test_resend_needs_a_token(api):
    response = await api.post(RESEND)
    assert response.status_code == 401


async def test_resend_is_throttled_per_address(api, settings):
    session = await signup(api, "resend.spam@example.com")
    settings.RATE_LIMITS = True
    settings.RATE_LIMIT_VERIFY_RESEND_EMAIL = Rate(count=2, period=3600)
    statuses = [(await api.post(RESEND, headers=bearer(session))).status_code for _ in range(3)]
    assert statuses == [202, 202, 429]
    assert len(sent_to("resend.spam@example.com")) == 3  # sign-up's and two resent


async def test_resend_is_throttled_per_client_ip(api, settings):
    one = await signup(api, "resend.ip1@example.com")
    two = await signup(api, "resend.ip2@example.com")
    settings.RATE_LIMITS = True
    settings.RATE_LIMIT_VERIFY_RESEND = Rate(count=1, period=3600)
    assert (await api.post(RESEND, headers=bearer(one))).status_code == 202
    refused = await api.post(RESEND, headers=bearer(two))
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) >= 1


async def test_a_verification_link_to_a_former_address_is_dead(api, users):
    await signup(api, "former@example.com")
    token = link_token(only_message_to("former@example.com", SUBJECT))
    await User.objects.filter(email="former@example.com").aupdate(email="current@example.com")
    assert (await api.post(VERIFY, json={"token": token})).status_code == 400


async def test_with_the_gate_on_unverified_users_cannot_sign_in_or_refresh(api, settings):
    session = await signup(api, "gated@example.com")
    settings.REQUIRE_VERIFIED_EMAIL = True
    body = {"email": "gated@example.com", "password": DEFAULT_PASSWORD}
    refused = await api.post("/api/auth/signin", json=body)
    assert refused.status_code == 403
    assert refused.json() == {"detail": "Email not verified"}
    refresh = await api.post("/api/auth/refresh", json={"refresh_token": session["refresh_token"]})
    assert refresh.status_code == 403
    assert refresh.json() == {"detail": "Email not verified"}
    token = link_token(sent_to("gated@example.com")[0])  # sign-up's link
    assert (await api.post(VERIFY, json={"token": token})).status_code == 200
    await signin(api, "gated@example.com")
    # The refused refresh did not use the token up.
    refreshed = await api.post(
        "/api/auth/refresh", json={"refresh_token": session["refresh_token"]}
    )
    assert refreshed.status_code == 200


async def test_with_the_gate_off_unverified_users_sign_in(api, settings):
    await signup(api, "ungated@example.com")
    settings.REQUIRE_VERIFIED_EMAIL = False
    session = await signin(api, "ungated@example.com")
    assert session["user"]["email_verified"] is False


async def test_the_gate_answers_401_not_403_to_a_wrong_password(api, settings):
    await signup(api, "gated.wrong@example.com")
    settings.REQUIRE_VERIFIED_EMAIL = True
    response = await api.post(
        "/api/auth/signin", json={"email": "gated.wrong@example.com", "password": "nope nope"}
    )
    assert response.status_code == 401


async def test_a_sign_in_refused_for_want_of_verification_sends_a_new_link(api, settings):
    await signup(api, "lost.link@example.com")
    settings.REQUIRE_VERIFIED_EMAIL = True
    settings.RATE_LIMITS = True
    settings.RATE_LIMIT_VERIFY_RESEND_EMAIL = Rate(count=1, period=3600)
    body = {"email": "lost.link@example.com", "password": DEFAULT_PASSWORD}
    for _ in range(3):
        assert (await api.post("/api/auth/signin", json=body)).status_code == 403
    messages = [m for m in sent_to("lost.link@example.com") if m.subject == SUBJECT]
    assert len(messages) == 2  # sign-up's, and one more within the resend budget
    assert (await api.post(VERIFY, json={"token": link_token(messages[1])})).status_code == 200
    assert (await api.post("/api/auth/signin", json=body)).status_code == 200


async def test_a_wrong_password_never_sends_a_verification(api, settings):
    await signup(api, "no.oracle@example.com")
    mail.outbox.clear()
    settings.REQUIRE_VERIFIED_EMAIL = True
    body = {"email": "no.oracle@example.com", "password": "not the password"}
    assert (await api.post("/api/auth/signin", json=body)).status_code == 401
    assert sent_to("no.oracle@example.com") == []
