"""Email links: verification (the message sign-up sends, POST /api/auth/email/verify and
.../resend, the REQUIRE_VERIFIED_EMAIL gate) and email change (POST /api/auth/email/change: the
current password checked within the failure budgets, a link to the new address, a notice to the
old; .../change/confirm). Immediate task backend, Django's locmem outbox."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from accounts.models import EmailToken, EmailTokenPurpose, User
from tests.accounts.helpers import bearer, change_password, confirm_reset, signin, signup
from tests.factories import DEFAULT_PASSWORD
from tests.support.mail import html_part, link_token, only_message_to, sent_to
from toolkit.rates import Rate

pytestmark = pytest.mark.django_db(transaction=True)
VERIFY = "/api/auth/email/verify"
RESEND = "/api/auth/email/verify/resend"
VERIFICATION_SUBJECT = "Confirm your email address"
CHANGE = "/api/auth/email/change"
CONFIRM = "/api/auth/email/change/confirm"
CHANGE_SUBJECT = "Confirm your new email address"
NOTICE = "Your email address is being changed"
CHANGED = "Your email address was changed"


async def test_signup_sends_a_verification_link_with_text_and_html_parts(api):
    await signup(api, "new.person@example.com")
    message = only_message_to("new.person@example.com", VERIFICATION_SUBJECT)
    assert "<html" in html_part(message)
    assert "http://localhost:3000/verify-email?token=" in message.body
    token = link_token(message)
    assert len(token) >= 22  # at least 128 random bits, URL-safe base64
    assert "new.person" not in message.body.split("token=")[1].split()[0]  # no address in a URL


async def test_the_token_is_stored_only_as_its_sha256(api):
    await signup(api, "hashed@example.com")
    token = link_token(only_message_to("hashed@example.com", VERIFICATION_SUBJECT))
    stored = await EmailToken.objects.aget(user__email="hashed@example.com")
    assert stored.purpose == EmailTokenPurpose.VERIFY_EMAIL
    assert token not in stored.token_hash and len(stored.token_hash) == 64


async def test_the_link_verifies_the_address_and_me_says_so(api):
    session = await signup(api, "verify.me@example.com")
    assert session["user"]["email_verified"] is False
    token = link_token(only_message_to("verify.me@example.com", VERIFICATION_SUBJECT))
    response = await api.post(VERIFY, json={"token": token})
    assert response.status_code == 200
    assert response.json() == {"message": "Email verified"}
    assert response.headers["cache-control"] == "no-store"
    me = (await api.get("/api/auth/me", headers=bearer(session))).json()
    assert list(me) == ["id", "email", "email_verified", "created_at"]
    assert me["email_verified"] is True


async def test_a_link_works_once(api):
    await signup(api, "once@example.com")
    token = link_token(only_message_to("once@example.com", VERIFICATION_SUBJECT))
    assert (await api.post(VERIFY, json={"token": token})).status_code == 200
    replay = await api.post(VERIFY, json={"token": token})
    assert replay.status_code == 400
    assert replay.json() == {"detail": "Invalid or expired token"}


async def test_an_expired_link_is_400(api):
    await signup(api, "late@example.com")
    token = link_token(only_message_to("late@example.com", VERIFICATION_SUBJECT))
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
    messages = [m for m in sent_to("resend@example.com") if m.subject == VERIFICATION_SUBJECT]
    assert len(messages) == 2
    assert (await api.post(VERIFY, json={"token": link_token(messages[1])})).status_code == 200


async def test_a_verified_address_is_never_sent_a_verification_again(api):
    session = await signup(api, "verified.once@example.com")
    token = link_token(only_message_to("verified.once@example.com", VERIFICATION_SUBJECT))
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
    token = link_token(only_message_to("former@example.com", VERIFICATION_SUBJECT))
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
    messages = [m for m in sent_to("lost.link@example.com") if m.subject == VERIFICATION_SUBJECT]
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


async def change(api, session: dict, new_email: str, password: str = DEFAULT_PASSWORD):
    return await api.post(
        CHANGE,
        json={"new_email": new_email, "current_password": password},
        headers=bearer(session),
    )


async def test_change_sends_a_link_to_the_new_address_and_a_notice_to_the_old(api):
    session = await signup(api, "old.address@example.com")
    response = await change(api, session, "New.Address@Example.com")
    assert response.status_code == 202
    assert response.json() == {"message": "Confirmation sent to the new address"}
    link = only_message_to("new.address@example.com", CHANGE_SUBJECT)
    assert "http://localhost:3000/confirm-email-change?token=" in link.body
    notice = only_message_to("old.address@example.com", NOTICE)
    assert "token=" not in notice.body and "new.address" not in notice.body
    assert (await User.objects.aget(pk=session["user"]["id"])).email == "old.address@example.com"


async def test_confirm_moves_the_account_to_the_new_address_verified(api):
    session = await signup(api, "mover@example.com")
    await change(api, session, "moved@example.com")
    token = link_token(only_message_to("moved@example.com", CHANGE_SUBJECT))
    response = await api.post(CONFIRM, json={"token": token})
    assert response.status_code == 200
    body = response.json()
    assert list(body) == ["id", "email", "email_verified", "created_at"]
    assert body["email"] == "moved@example.com" and body["email_verified"] is True
    assert response.headers["cache-control"] == "no-store"
    await signin(api, "moved@example.com")
    old = await api.post(
        "/api/auth/signin", json={"email": "mover@example.com", "password": DEFAULT_PASSWORD}
    )
    assert old.status_code == 401
    replay = await api.post(CONFIRM, json={"token": token})
    assert replay.status_code == 400
    assert replay.json() == {"detail": "Invalid or expired token"}


async def test_change_with_a_wrong_password_is_400_and_sends_nothing(api):
    session = await signup(api, "guarded@example.com")
    response = await change(api, session, "elsewhere@example.com", password="not my password")
    assert response.status_code == 400
    assert response.json() == {"detail": "Current password is incorrect"}
    assert sent_to("elsewhere@example.com") == []


async def test_wrong_passwords_on_change_spend_the_sign_in_failure_budget(api, settings):
    session = await signup(api, "budget@example.com")
    settings.RATE_LIMITS = True
    settings.RATE_LIMIT_SIGNIN_FAILED = Rate(count=2, period=900)
    statuses = [
        (await change(api, session, f"x{n}@example.com", password="wrong one")).status_code
        for n in range(3)
    ]
    assert statuses == [400, 400, 429]
    # The budget is the sign-in's: the right password is refused too from this address now.
    signin = await api.post(
        "/api/auth/signin", json={"email": "budget@example.com", "password": DEFAULT_PASSWORD}
    )
    assert signin.status_code == 429


async def test_change_to_a_registered_address_is_409(api, users):
    await users.create("taken@example.com")
    session = await signup(api, "wants.taken@example.com")
    response = await change(api, session, "TAKEN@example.com")
    assert response.status_code == 409
    assert response.json() == {"detail": "Email already registered"}


async def test_a_wrong_password_is_answered_before_whether_the_address_is_taken(api, users):
    await users.create("secret.member@example.com")
    session = await signup(api, "prober@example.com")
    response = await change(api, session, "secret.member@example.com", password="guess")
    assert response.status_code == 400


async def test_confirm_is_409_when_the_address_was_taken_meanwhile(api, users):
    session = await signup(api, "slow@example.com")
    await change(api, session, "contested@example.com")
    token = link_token(only_message_to("contested@example.com", CHANGE_SUBJECT))
    await users.create("contested@example.com")
    response = await api.post(CONFIRM, json={"token": token})
    assert response.status_code == 409
    assert response.json() == {"detail": "Email already registered"}
    assert (await User.objects.aget(pk=session["user"]["id"])).email == "slow@example.com"


async def test_change_to_a_non_ascii_local_part_is_422(api):
    session = await signup(api, "ascii@example.com")
    response = await change(api, session, "\u0430na@example.com")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "new_email"]


async def test_change_needs_a_token(api):
    response = await api.post(
        CHANGE, json={"new_email": "a@example.com", "current_password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 401


async def test_a_newer_change_request_kills_the_older_link(api):
    session = await signup(api, "fickle@example.com")
    await change(api, session, "first.choice@example.com")
    await change(api, session, "second.choice@example.com")
    older = link_token(only_message_to("first.choice@example.com", CHANGE_SUBJECT))
    newer = link_token(only_message_to("second.choice@example.com", CHANGE_SUBJECT))
    assert (await api.post(CONFIRM, json={"token": older})).status_code == 400
    assert (await api.post(CONFIRM, json={"token": newer})).status_code == 200


async def two_changes(api, settings, limit: str, email: str, *new_emails: str) -> list[int]:
    """Sign up `email`, allow one change an hour under the throttle setting `limit`, and ask
    for a change to each of `new_emails`: their statuses."""
    session = await signup(api, email)
    settings.RATE_LIMITS = True
    setattr(settings, limit, Rate(count=1, period=3600))
    return [(await change(api, session, new_email)).status_code for new_email in new_emails]


async def test_change_is_throttled_per_new_address(api, settings):
    victim = "victim@example.com"
    statuses = await two_changes(
        api, settings, "RATE_LIMIT_EMAIL_CHANGE_EMAIL", "spammer1@example.com", victim, victim
    )
    assert statuses == [202, 429]
    assert len(sent_to(victim)) == 1


async def test_change_is_throttled_per_client_ip(api, settings):
    statuses = await two_changes(
        api,
        settings,
        "RATE_LIMIT_EMAIL_CHANGE",
        "ipchanger@example.com",
        "a.new@example.com",
        "b.new@example.com",
    )
    assert statuses == [202, 429]


async def pending_change(api, email: str, new_email: str) -> tuple[dict, str]:
    """A signed-in session, and the token of a change to `new_email` not confirmed yet: what an
    attacker who knows the password holds."""
    session = await signup(api, email)
    assert (await change(api, session, new_email)).status_code == 202
    return session, link_token(only_message_to(new_email, CHANGE_SUBJECT))


async def assert_link_dead(api, token: str, user_id: str, email: str) -> None:
    response = await api.post(CONFIRM, json={"token": token})
    assert response.status_code == 400, response.text
    assert response.json() == {"detail": "Invalid or expired token"}
    assert (await User.objects.aget(pk=user_id)).email == email


async def test_a_password_change_ends_a_pending_email_change(api):
    session, token = await pending_change(api, "owner@example.com", "attacker@example.com")
    changed = await change_password(api, session, "the owner's new passphrase")
    assert changed.status_code == 200
    await assert_link_dead(api, token, session["user"]["id"], "owner@example.com")


async def test_a_password_reset_ends_a_pending_email_change(api):
    session, token = await pending_change(api, "resetter@example.com", "thief@example.com")
    await api.post("/api/auth/password/reset", json={"email": "resetter@example.com"})
    confirmed = await confirm_reset(api, "resetter@example.com", "the owner's new passphrase")
    assert confirmed.status_code == 200
    await assert_link_dead(api, token, session["user"]["id"], "resetter@example.com")


async def test_a_password_change_ends_a_pending_verification_link_too(api):
    session = await signup(api, "unverified.changer@example.com")
    verify = link_token(
        only_message_to("unverified.changer@example.com", "Confirm your email address")
    )
    changed = await change_password(api, session, "the owner's new passphrase")
    assert changed.status_code == 200
    response = await api.post("/api/auth/email/verify", json={"token": verify})
    assert response.status_code == 400
    assert not (await User.objects.aget(pk=session["user"]["id"])).email_verified


async def test_a_change_asked_for_after_the_password_changed_still_works(api):
    session, _ = await pending_change(api, "later@example.com", "first.try@example.com")
    changed = await change_password(api, session, "the owner's new passphrase")
    fresh = changed.json()
    response = await change(api, fresh, "second.try@example.com", "the owner's new passphrase")
    assert response.status_code == 202
    token = link_token(only_message_to("second.try@example.com", CHANGE_SUBJECT))
    assert (await api.post(CONFIRM, json={"token": token})).status_code == 200


async def test_the_change_notice_says_a_new_password_cancels_the_change(api):
    session = await signup(api, "warned@example.com")
    await change(api, session, "somewhere.else@example.com")
    notice = only_message_to("warned@example.com", NOTICE)
    for text in (str(notice.body), html_part(notice)):
        assert "change your password now" in text
        assert "cancels the change" in text


async def test_a_confirmed_change_sends_a_notice_to_the_old_address(api):
    session = await signup(api, "left.behind@example.com")
    await change(api, session, "moved.on@example.com")
    token = link_token(only_message_to("moved.on@example.com", CHANGE_SUBJECT))
    assert (await api.post(CONFIRM, json={"token": token})).status_code == 200
    notice = only_message_to("left.behind@example.com", CHANGED)
    for text in (str(notice.body), html_part(notice)):
        assert "left.behind@example.com" in text
        assert "moved.on" not in text and "token=" not in text
    assert [m.subject for m in sent_to("moved.on@example.com")] == [CHANGE_SUBJECT]


async def test_a_change_refused_at_confirmation_sends_no_notice(api, users):
    session = await signup(api, "still.here@example.com")
    await change(api, session, "grabbed@example.com")
    token = link_token(only_message_to("grabbed@example.com", CHANGE_SUBJECT))
    await users.create("grabbed@example.com")
    assert (await api.post(CONFIRM, json={"token": token})).status_code == 409
    assert [m.subject for m in sent_to("still.here@example.com")] == [
        "Confirm your email address",
        NOTICE,
    ]
