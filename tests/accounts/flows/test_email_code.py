"""Sign-in by a code sent by email: POST /api/auth/email/code (the same answer for any address)
and .../email/code/confirm (a session, or the second factor's challenge). Immediate task
backend, Django's locmem outbox."""

import hashlib
import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from accounts.models import EmailCode, User
from audit.models import AuthEvent
from mfa.models import MfaChallenge
from tests.accounts.helpers import bearer, signup, verified_signup
from tests.accounts.test_throttles import client_from
from tests.factories import DEFAULT_PASSWORD
from tests.mfa.helpers import clock, totp_on
from tests.support.mail import html_part, only_message_to, sent_to
from toolkit.rates import Rate

pytestmark = pytest.mark.django_db(transaction=True)
__all__ = ["clock"]  # the TOTP clock fixture
ASK = "/api/auth/email/code"
CONFIRM = "/api/auth/email/code/confirm"
SUBJECT = "Your sign-in code"
ANSWER = {"message": "If the address is registered, a code is on its way"}
REFUSED = {"detail": "Invalid or expired code"}
SHOWN_CODE = re.compile(
    r"\b([23456789ABCDEFGHJKLMNPQRSTUVWXYZ]{4}-[23456789ABCDEFGHJKLMNPQRSTUVWXYZ]{4})\b"
)


def code_in(message: mail.EmailMessage) -> str:
    found = SHOWN_CODE.findall(str(message.body))
    assert len(found) == 1, message.body
    assert found[0] in html_part(message)
    return found[0]


async def ask(api, email: str) -> str:
    """Ask for a code for `email`, a registered address; the code the message shows."""
    before = len([m for m in sent_to(email) if m.subject == SUBJECT])
    response = await api.post(ASK, json={"email": email})
    assert response.status_code == 202, response.text
    messages = [m for m in sent_to(email) if m.subject == SUBJECT]
    assert len(messages) == before + 1
    return code_in(messages[-1])


async def confirm(api, email: str, code: str, **headers: str):
    return await api.post(CONFIRM, json={"email": email, "code": code}, headers=headers)


async def test_a_registered_address_gets_a_code_and_a_link_without_it(api, users):
    await users.create("coded@example.com")
    response = await api.post(ASK, json={"email": "Coded@Example.com"})
    assert response.status_code == 202
    assert response.json() == ANSWER
    message = only_message_to("coded@example.com", SUBJECT)
    code = code_in(message)
    link = "http://localhost:3000/signin/code?email=coded%40example.com"
    assert link in message.body and link in html_part(message)
    assert code.replace("-", "") not in message.body.split(link)[1].split()[0]


async def test_an_unknown_address_gets_the_same_answer_and_nothing_is_sent(api):
    response = await api.post(ASK, json={"email": "nobody@example.com"})
    assert response.status_code == 202
    assert response.json() == ANSWER
    assert mail.outbox == []
    assert not await EmailCode.objects.aexists()


async def test_an_invalid_address_is_422(api):
    for body in ({"email": "not an address"}, {}):
        response = await api.post(ASK, json=body)
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["body", "email"]


async def test_the_code_signs_in_whatever_its_case_and_dash(api, users):
    user = await users.create("typist@example.com")
    code = await ask(api, "typist@example.com")
    response = await confirm(api, "typist@example.com", f" {code.replace('-', '').lower()} ")
    assert response.status_code == 200, response.text
    session = response.json()
    assert session["user"]["id"] == str(user.pk)
    assert response.headers["cache-control"] == "no-store"
    me = await api.get("/api/auth/me", headers=bearer(session))
    assert me.json()["email"] == "typist@example.com"


async def test_the_signin_event_says_email_code(api, users):
    await users.create("evented@example.com")
    code = await ask(api, "evented@example.com")
    session = (await confirm(api, "evented@example.com", code)).json()
    event = await AuthEvent.objects.aget(type="signin")
    assert event.detail == {"method": "email_code"}
    assert (
        str(event.session_id)
        == (await api.get("/api/auth/sessions", headers=bearer(session))).json()[0]["id"]
    )


async def test_a_confirmed_code_verifies_the_address(api):
    await signup(api, "unverified@example.com")
    code = await ask(api, "unverified@example.com")
    response = await confirm(api, "unverified@example.com", code)
    assert response.json()["user"]["email_verified"] is True
    assert (await User.objects.aget(email="unverified@example.com")).email_verified
    assert await AuthEvent.objects.filter(type="email_verified").aexists()


async def test_require_verified_email_lets_a_code_sign_in(api, settings):
    await signup(api, "gated@example.com")
    settings.REQUIRE_VERIFIED_EMAIL = True
    code = await ask(api, "gated@example.com")
    assert (await confirm(api, "gated@example.com", code)).status_code == 200


async def test_a_code_works_once(api, users):
    await users.create("once@example.com")
    code = await ask(api, "once@example.com")
    assert (await confirm(api, "once@example.com", code)).status_code == 200
    replay = await confirm(api, "once@example.com", code)
    assert replay.status_code == 400
    assert replay.json() == REFUSED


async def test_an_expired_code_is_400(api, users, settings):
    await users.create("late@example.com")
    code = await ask(api, "late@example.com")
    stored = await EmailCode.objects.aget()
    assert abs((stored.expires_at - stored.created_at) - timedelta(seconds=600)) < timedelta(
        seconds=1
    )
    await EmailCode.objects.aupdate(expires_at=timezone.now() - timedelta(seconds=1))
    assert (await confirm(api, "late@example.com", code)).json() == REFUSED


async def test_five_wrong_tries_kill_the_code(api, users):
    await users.create("guessed@example.com")
    code = await ask(api, "guessed@example.com")
    wrong = "2222-2222" if code != "2222-2222" else "3333-3333"
    for _ in range(4):
        assert (await confirm(api, "guessed@example.com", wrong)).status_code == 400
    assert (await EmailCode.objects.aget()).failures == 4
    assert await AuthEvent.objects.filter(type="signin_failed").acount() == 4
    assert (await confirm(api, "guessed@example.com", wrong)).status_code == 400
    assert (await confirm(api, "guessed@example.com", code)).json() == REFUSED


async def test_four_wrong_tries_leave_the_code_working(api, users):
    await users.create("clumsy@example.com")
    code = await ask(api, "clumsy@example.com")
    wrong = "2222-2222" if code != "2222-2222" else "3333-3333"
    for _ in range(4):
        await confirm(api, "clumsy@example.com", wrong)
    assert (await confirm(api, "clumsy@example.com", code)).status_code == 200


async def test_a_new_code_replaces_the_old_one(api, users):
    await users.create("twice@example.com")
    first = await ask(api, "twice@example.com")
    second = await ask(api, "twice@example.com")
    assert await EmailCode.objects.acount() == 1
    if first != second:
        assert (await confirm(api, "twice@example.com", first)).status_code == 400
    assert (await confirm(api, "twice@example.com", second)).status_code == 200


async def test_a_code_is_bound_to_its_address(api, users):
    await users.create("owner@example.com")
    await users.create("other@example.com")
    code = await ask(api, "owner@example.com")
    assert (await confirm(api, "other@example.com", code)).json() == REFUSED
    assert (await confirm(api, "owner@example.com", code)).status_code == 200


async def test_the_code_is_stored_only_as_a_keyed_digest(api, users):
    await users.create("hashed@example.com")
    code = (await ask(api, "hashed@example.com")).replace("-", "")
    stored = await EmailCode.objects.aget()
    assert code not in stored.code_hash and len(stored.code_hash) == 64
    assert stored.code_hash != hashlib.sha256(code.encode()).hexdigest()


async def test_an_inactive_user_gets_no_code_and_a_pending_one_dies(api, users):
    user = await users.create("paused@example.com")
    code = await ask(api, "paused@example.com")
    user.is_active = False
    await user.asave()
    assert (await confirm(api, "paused@example.com", code)).json() == REFUSED
    mail.outbox.clear()
    assert (await api.post(ASK, json={"email": "paused@example.com"})).status_code == 202
    assert mail.outbox == []


@pytest.mark.parametrize("how", ["api", "shell"])
async def test_a_pending_code_dies_when_the_password_changes(api, users, how):
    user = await users.create("rekeyed@example.com")
    code = await ask(api, "rekeyed@example.com")
    if how == "api":
        session = (
            await api.post(
                "/api/auth/signin",
                json={"email": "rekeyed@example.com", "password": DEFAULT_PASSWORD},
            )
        ).json()
        changed = await api.post(
            "/api/auth/password",
            json={"current_password": DEFAULT_PASSWORD, "new_password": "a-n3w-Passphrase"},
            headers=bearer(session),
        )
        assert changed.status_code == 200, changed.text
    else:
        user.set_password("a-n3w-Passphrase")
        await user.asave()
    assert (await confirm(api, "rekeyed@example.com", code)).json() == REFUSED
    assert not await EmailCode.objects.filter(user=user).aexists()


async def test_a_code_dies_when_the_address_moves(api, users):
    user = await users.create("moving@example.com")
    code = await ask(api, "moving@example.com")
    await User.objects.filter(pk=user.pk).aupdate(email="moved@example.com")
    assert (await confirm(api, "moving@example.com", code)).json() == REFUSED


async def test_a_user_with_totp_gets_the_challenge_not_a_session(api, clock):
    session = await verified_signup(api, "second.factor@example.com")
    await totp_on(api, session, clock)
    code = await ask(api, "second.factor@example.com")
    response = await confirm(api, "second.factor@example.com", code)
    assert response.status_code == 200
    body = response.json()
    assert body["mfa_required"] is True and "access_token" not in body
    assert await MfaChallenge.objects.filter(used_at__isnull=True).acount() == 1


async def test_asking_is_throttled_per_address_before_anything_is_enqueued(api, users, settings):
    settings.RATE_LIMITS = True
    settings.RATE_LIMIT_EMAIL_CODE_EMAIL = Rate(count=2, period=3600)
    await users.create("busy@example.com")
    for _ in range(2):
        assert (await api.post(ASK, json={"email": "busy@example.com"})).status_code == 202
    refused = await api.post(ASK, json={"email": "BUSY@example.com"})
    assert refused.status_code == 429 and "retry-after" in refused.headers
    assert len(sent_to("busy@example.com")) == 2
    # Unknown addresses are counted alike, so the 429 tells nothing either.
    for _ in range(2):
        await api.post(ASK, json={"email": "ghost@example.com"})
    assert (await api.post(ASK, json={"email": "ghost@example.com"})).status_code == 429


async def test_asking_is_throttled_per_ip(api, settings):
    settings.RATE_LIMITS = True
    settings.RATE_LIMIT_EMAIL_CODE = Rate(count=2, period=3600)
    for n in range(2):
        assert (await api.post(ASK, json={"email": f"a{n}@example.com"})).status_code == 202
    assert (await api.post(ASK, json={"email": "a2@example.com"})).status_code == 429
    async with client_from("10.9.8.7") as other:
        assert (await other.post(ASK, json={"email": "a2@example.com"})).status_code == 202


async def test_confirming_counts_in_the_signin_throttle_per_ip(api, users, settings):
    settings.RATE_LIMITS = True
    settings.RATE_LIMIT_SIGNIN = Rate(count=2, period=60)
    await users.create("counted@example.com")
    code = await ask(api, "counted@example.com")
    for _ in range(2):
        await confirm(api, "counted@example.com", "2222-3333")
    assert (await confirm(api, "counted@example.com", code)).status_code == 429


async def test_a_browser_may_take_the_session_as_cookies(api, users):
    await users.create("browser@example.com")
    code = await ask(api, "browser@example.com")
    response = await confirm(api, "browser@example.com", code, **{"X-Auth-Transport": "cookie"})
    assert response.status_code == 200
    assert "refresh_token" not in response.json()
    cookies = response.headers.get_list("set-cookie")
    assert any(c.startswith("__Host-refresh=") and "HttpOnly" in c for c in cookies)
