"""Password change and reset: POST /api/auth/password (a new session, every old one revoked);
POST /api/auth/password/reset (the same answer for every address, the decision in the task) and
.../reset/confirm (a new session, every other one revoked, the address verified)."""

import logging
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
PASSWORD = "/api/auth/password"
RESET = "/api/auth/password/reset"
CONFIRM = "/api/auth/password/reset/confirm"
SUBJECT = "Reset your password"
ACCEPTED = {"message": "If the address is registered, a reset link is on its way"}
NEW_PASSWORD = "a brand new passphrase"


async def assert_only_the_new_password_works(api, email: str, fresh: dict, *old: dict) -> None:
    """`fresh` (the answer to the change) is a live session, every `old` one is dead, and only
    NEW_PASSWORD signs in."""
    assert (await api.get("/api/auth/me", headers=bearer(fresh))).status_code == 200
    for session in old:
        assert (await api.get("/api/auth/me", headers=bearer(session))).status_code == 401
        refreshed = await api.post(
            "/api/auth/refresh", json={"refresh_token": session["refresh_token"]}
        )
        assert refreshed.status_code == 401
    await signin(api, email, NEW_PASSWORD)
    old_password = await api.post(
        "/api/auth/signin", json={"email": email, "password": DEFAULT_PASSWORD}
    )
    assert old_password.status_code == 401


async def test_password_change_replaces_every_session(api):
    first = await signup(api, "changer@example.com")
    second = await signin(api, "changer@example.com")
    response = await api.post(
        PASSWORD,
        json={"current_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD},
        headers=bearer(first),
    )
    assert response.status_code == 200
    fresh = response.json()
    await assert_only_the_new_password_works(api, "changer@example.com", fresh, first, second)


async def test_password_change_with_a_wrong_current_password_is_400(api):
    session = await signup(api, "wrong.current@example.com")
    response = await api.post(
        PASSWORD,
        json={"current_password": "not my password", "new_password": NEW_PASSWORD},
        headers=bearer(session),
    )
    assert response.status_code == 400
    assert response.json() == {"detail": "Current password is incorrect"}
    assert (await api.get("/api/auth/me", headers=bearer(session))).status_code == 200


async def test_password_change_to_a_weak_password_is_422(api):
    session = await signup(api, "weak.new@example.com")
    response = await api.post(
        PASSWORD,
        json={"current_password": DEFAULT_PASSWORD, "new_password": "password"},
        headers=bearer(session),
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "new_password"]
    user = await User.objects.aget(email="weak.new@example.com")
    assert await user.acheck_password(DEFAULT_PASSWORD)


async def test_password_change_needs_a_token(api):
    response = await api.post(
        PASSWORD, json={"current_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD}
    )
    assert response.status_code == 401


async def reset_token(api, email: str) -> str:
    response = await api.post(RESET, json={"email": email})
    assert response.status_code == 202, response.text
    messages = [m for m in sent_to(email) if m.subject == SUBJECT]
    return link_token(messages[-1])


async def test_reset_request_answers_the_same_for_registered_and_unknown_addresses(api, users):
    await users.create("known@example.com")
    known = await api.post(RESET, json={"email": "known@example.com"})
    unknown = await api.post(RESET, json={"email": "unknown@example.com"})
    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json() == ACCEPTED
    assert known.content == unknown.content
    drop = {"date", "x-request-id", "x-worker-pid"}
    assert {k: v for k, v in known.headers.items() if k not in drop} == {
        k: v for k, v in unknown.headers.items() if k not in drop
    }
    assert len(sent_to("known@example.com")) == 1
    assert sent_to("unknown@example.com") == []


async def test_reset_request_for_an_inactive_account_sends_nothing(api, users):
    await users.create("inactive@example.com", is_active=False)
    response = await api.post(RESET, json={"email": "inactive@example.com"})
    assert response.status_code == 202
    assert sent_to("inactive@example.com") == []


async def test_reset_request_finds_the_account_in_any_letter_case(api, users):
    await users.create("cased@example.com")
    await api.post(RESET, json={"email": "CASED@Example.COM"})
    only_message_to("cased@example.com", SUBJECT)


async def test_reset_request_with_an_invalid_address_is_422(api):
    response = await api.post(RESET, json={"email": "not-an-address"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "email"]


async def test_reset_link_points_at_the_frontend_and_holds_no_address(api, users):
    await users.create("link@example.com")
    await api.post(RESET, json={"email": "link@example.com"})
    message = only_message_to("link@example.com", SUBJECT)
    assert "http://localhost:3000/reset-password?token=" in message.body
    url = next(word for word in message.body.split() if word.startswith("http://localhost:3000/"))
    assert "link" not in url.split("token=")[0] and "%40" not in url and "@" not in url


async def test_reset_confirm_sets_the_password_revokes_every_session_and_verifies(api):
    first = await signup(api, "forgetful@example.com")
    second = await signin(api, "forgetful@example.com")
    token = await reset_token(api, "forgetful@example.com")
    response = await api.post(CONFIRM, json={"token": token, "new_password": NEW_PASSWORD})
    assert response.status_code == 200
    fresh = response.json()
    assert set(fresh) == {"user", "access_token", "refresh_token", "token_type", "expires_in"}
    assert fresh["user"]["email_verified"] is True
    assert response.headers["cache-control"] == "no-store"
    await assert_only_the_new_password_works(api, "forgetful@example.com", fresh, first, second)
    assert (await User.objects.aget(email="forgetful@example.com")).email_verified


async def test_reset_sends_a_security_notice(api, users):
    await users.create("noticed@example.com")
    token = await reset_token(api, "noticed@example.com")
    await api.post(CONFIRM, json={"token": token, "new_password": NEW_PASSWORD})
    notice = only_message_to("noticed@example.com", "Your password was reset")
    assert "token=" not in notice.body


async def test_a_reset_token_works_once(api, users):
    await users.create("replay@example.com")
    token = await reset_token(api, "replay@example.com")
    assert (
        await api.post(CONFIRM, json={"token": token, "new_password": NEW_PASSWORD})
    ).status_code == 200
    replay = await api.post(
        CONFIRM, json={"token": token, "new_password": "yet another passphrase"}
    )
    assert replay.status_code == 400
    assert replay.json() == {"detail": "Invalid or expired token"}
    await signin(api, "replay@example.com", NEW_PASSWORD)


async def test_a_new_reset_request_kills_the_older_links(api, users):
    await users.create("twice@example.com")
    older = await reset_token(api, "twice@example.com")
    newer = await reset_token(api, "twice@example.com")
    refused = await api.post(CONFIRM, json={"token": older, "new_password": NEW_PASSWORD})
    assert refused.status_code == 400
    accepted = await api.post(CONFIRM, json={"token": newer, "new_password": NEW_PASSWORD})
    assert accepted.status_code == 200


async def test_an_expired_reset_token_is_400(api, users):
    await users.create("expired.reset@example.com")
    token = await reset_token(api, "expired.reset@example.com")
    await EmailToken.objects.filter(purpose=EmailTokenPurpose.PASSWORD_RESET).aupdate(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    response = await api.post(CONFIRM, json={"token": token, "new_password": NEW_PASSWORD})
    assert response.status_code == 400
    await signin(api, "expired.reset@example.com")


async def test_a_weak_new_password_is_422_and_leaves_the_link_usable(api, users):
    await users.create("weak.reset@example.com")
    token = await reset_token(api, "weak.reset@example.com")
    weak = await api.post(CONFIRM, json={"token": token, "new_password": "password"})
    assert weak.status_code == 422
    assert weak.json()["detail"][0]["loc"] == ["body", "new_password"]
    strong = await api.post(CONFIRM, json={"token": token, "new_password": NEW_PASSWORD})
    assert strong.status_code == 200


async def test_a_made_up_reset_token_is_400_before_any_password_rule(api):
    response = await api.post(CONFIRM, json={"token": "made-up", "new_password": NEW_PASSWORD})
    assert response.status_code == 400
    assert response.json() == {"detail": "Invalid or expired token"}


async def test_a_verification_token_does_not_reset_a_password(api):
    await signup(api, "cross@example.com")
    token = link_token(only_message_to("cross@example.com", "Confirm your email address"))
    response = await api.post(CONFIRM, json={"token": token, "new_password": NEW_PASSWORD})
    assert response.status_code == 400


async def test_reset_of_a_deactivated_account_is_400(api, users):
    await users.create("deactivated@example.com")
    token = await reset_token(api, "deactivated@example.com")
    await User.objects.filter(email="deactivated@example.com").aupdate(is_active=False)
    response = await api.post(CONFIRM, json={"token": token, "new_password": NEW_PASSWORD})
    assert response.status_code == 400


async def test_reset_request_is_throttled_per_address_whether_registered_or_not(api, settings):
    settings.RATE_LIMITS = True
    settings.RATE_LIMIT_PASSWORD_RESET_EMAIL = Rate(count=2, period=3600)
    statuses = [
        (await api.post(RESET, json={"email": "Nobody@Example.com"})).status_code for _ in range(3)
    ]
    assert statuses == [202, 202, 429]
    other = await api.post(RESET, json={"email": "somebody.else@example.com"})
    assert other.status_code == 202


async def test_reset_request_is_throttled_per_client_ip(api, settings):
    settings.RATE_LIMITS = True
    settings.RATE_LIMIT_PASSWORD_RESET = Rate(count=2, period=3600)
    statuses = [
        (await api.post(RESET, json={"email": f"ip{n}@example.com"})).status_code for n in range(3)
    ]
    assert statuses == [202, 202, 429]


async def test_password_change_sends_a_security_notice(api):
    session = await signup(api, "changed@example.com")
    mail.outbox.clear()
    response = await api.post(
        "/api/auth/password",
        json={"current_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD},
        headers=bearer(session),
    )
    assert response.status_code == 200
    notice = only_message_to("changed@example.com", "Your password was changed")
    assert "<html" in html_part(notice)


async def test_reset_request_does_no_hashing(api, users):
    from accounts.hashing import hasher_pool

    await users.create("no.hash@example.com")
    pool = hasher_pool()
    capacity, pool.capacity = pool.capacity, 0  # any hash now would be shed with 503
    try:
        reset = await api.post(RESET, json={"email": "no.hash@example.com"})
        signin = await api.post(
            "/api/auth/signin", json={"email": "no.hash@example.com", "password": DEFAULT_PASSWORD}
        )
    finally:
        pool.capacity = capacity
    assert reset.status_code == 202
    assert signin.status_code == 503  # the pool really was closed
    only_message_to("no.hash@example.com", SUBJECT)


class Recorder(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def every_log_line():
    """Every line any logger of the service writes, at every level, while the test runs."""
    recorder = Recorder()
    names = ["", "accounts", "project", "django", "django.tasks", "django_tasks_db", "toolkit"]
    loggers = [logging.getLogger(name) for name in names]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(recorder)
        logger.setLevel(logging.DEBUG)
    yield recorder.lines
    for logger, level in zip(loggers, levels, strict=True):
        logger.removeHandler(recorder)
        logger.setLevel(level)


async def test_no_log_line_holds_a_token(api, users, every_log_line):
    await users.create("quiet@example.com")
    token = await reset_token(api, "quiet@example.com")
    await api.post(CONFIRM, json={"token": token, "new_password": "password"})  # 422
    await api.post(CONFIRM, json={"token": token, "new_password": NEW_PASSWORD})
    await api.post(CONFIRM, json={"token": token, "new_password": NEW_PASSWORD})  # 400
    assert any("password_reset_send" in line for line in every_log_line)  # it did log
    assert [line for line in every_log_line if token in line] == []
