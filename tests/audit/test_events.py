"""The audit trail: one event per action, none for an action that failed, written in the same
transaction as the change; GET /api/auth/events; manage.py purge."""

import uuid
from datetime import timedelta
from io import StringIO

import pytest
from asgiref.sync import sync_to_async
from django.core.management import call_command
from django.utils import timezone

from accounts.models import AuthSession
from accounts.signals import EVENT_TYPES, EventType, auth_event
from audit.models import AuthEvent
from tests.accounts.helpers import bearer, signin, signup, verified_signup
from tests.mfa.helpers import MFA, code, totp_on

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "correct horse battery staple"
EVENTS = "/api/auth/events"


async def types_of(email: str) -> list[str]:
    """The user's event types, oldest first."""
    return [e.type async for e in AuthEvent.objects.filter(user__email=email).order_by("at", "id")]


def test_event_types_are_exactly_the_protocols():
    assert tuple(dict(AuthEvent._meta.get_field("type").flatchoices)) == EVENT_TYPES
    # The contract's list (../shared/API.md, "Sessions, second factor, audit"), written out here
    # so that dropping or renaming a type in the code fails.
    assert set(EVENT_TYPES) == {
        "signup",
        "signin",
        "signin_failed",
        "mfa_failed",
        "refresh_reuse",
        "signout",
        "session_revoked",
        "password_changed",
        "password_reset",
        "email_verified",
        "email_changed",
        "mfa_enabled",
        "mfa_disabled",
        "recovery_codes_regenerated",
        "admin_action",
        "reauthenticated",
        "new_device_notice",
        "account_deletion_requested",
        "account_restored",
        "data_exported",
        "identity_linked",
        "identity_unlinked",
        "passkey_added",
        "passkey_removed",
        "passkey_clone_suspected",
        "unverified_credentials_cleared",
    }


async def test_signup_and_signin_record_one_event_each_with_client_and_session(api):
    session = await signup(api, "events@example.com")
    await api.post(
        "/api/auth/signin",
        json={"email": "events@example.com", "password": PASSWORD},
        headers={"User-Agent": "probe/1.0"},
    )
    assert await types_of("events@example.com") == ["signup", "signin"]
    signin_event = await AuthEvent.objects.aget(type="signin")
    assert signin_event.ip == "127.0.0.1"
    assert signin_event.user_agent == "probe/1.0"
    newest = await AuthSession.objects.alatest("created_at")
    assert signin_event.session_id == newest.pk
    assert session["user"]["id"] == str(signin_event.user_id)


async def test_a_wrong_password_for_a_known_email_records_signin_failed_only(api):
    await signup(api, "known@example.com")
    response = await api.post(
        "/api/auth/signin", json={"email": "known@example.com", "password": "wrong password"}
    )
    assert response.status_code == 401
    assert await types_of("known@example.com") == ["signup", "signin_failed"]


async def test_an_unknown_email_records_nothing(api):
    response = await api.post(
        "/api/auth/signin", json={"email": "nobody@example.com", "password": "wrong password"}
    )
    assert response.status_code == 401
    assert not await AuthEvent.objects.aexists()


async def test_signout_refresh_reuse_and_session_revocations_record_one_event_each(api, settings):
    settings.REFRESH_REUSE_GRACE = 0  # any second use is reuse
    first = await signup(api, "lifecycle@example.com")
    second = await signin(api, "lifecycle@example.com")
    third = await signin(api, "lifecycle@example.com")
    await api.post("/api/auth/signout", headers=bearer(first))
    await api.post("/api/auth/signout", headers=bearer(first))  # already out: no second event
    rotated = await api.post("/api/auth/refresh", json={"refresh_token": second["refresh_token"]})
    assert rotated.status_code == 200
    await api.post("/api/auth/refresh", json={"refresh_token": second["refresh_token"]})
    fourth = await signin(api, "lifecycle@example.com")
    fourth_id = (await AuthSession.objects.alatest("created_at")).pk
    assert (
        await api.delete(f"/api/auth/sessions/{fourth_id}", headers=bearer(third))
    ).status_code == 204
    await signin(api, "lifecycle@example.com")
    await api.post("/api/auth/sessions/revoke-others", headers=bearer(third))
    assert await types_of("lifecycle@example.com") == [
        "signup",
        "signin",
        "signin",
        "signout",
        "refresh_reuse",
        "signin",
        "session_revoked",
        "signin",
        "session_revoked",
    ]
    revoked = [e async for e in AuthEvent.objects.filter(type="session_revoked").order_by("at")]
    assert revoked[0].session_id == fourth_id
    assert revoked[1].detail == {"revoked": 1, "scope": "others"}
    assert fourth["access_token"]


async def test_revoking_someone_elses_session_records_nothing(api):
    mine = await signup(api, "nosy@example.com")
    await signup(api, "target@example.com")
    theirs = (await AuthSession.objects.aget(user__email="target@example.com")).pk
    assert (
        await api.delete(f"/api/auth/sessions/{theirs}", headers=bearer(mine))
    ).status_code == 404
    assert not await AuthEvent.objects.filter(type="session_revoked").aexists()


async def test_a_wrong_current_password_records_signin_failed_and_no_password_changed(api):
    session = await signup(api, "changer@example.com")
    wrong = await api.post(
        "/api/auth/password",
        json={"current_password": "not it at all", "new_password": "a brand new passphrase"},
        headers=bearer(session),
    )
    assert wrong.status_code == 400
    assert await types_of("changer@example.com") == ["signup", "signin_failed"]
    right = await api.post(
        "/api/auth/password",
        json={"current_password": PASSWORD, "new_password": "a brand new passphrase"},
        headers=bearer(session),
    )
    assert right.status_code == 200
    assert await types_of("changer@example.com") == ["signup", "signin_failed", "password_changed"]


async def test_a_password_change_and_a_reset_record_one_event_each_with_the_new_session(api):
    from accounts.tokens import access_token_decode
    from tests.support.mail import link_token, only_message_to

    session = await signup(api, "once@example.com")
    changed = await api.post(
        "/api/auth/password",
        json={"current_password": PASSWORD, "new_password": "a brand new passphrase"},
        headers=bearer(session),
    )
    await api.post("/api/auth/password/reset", json={"email": "once@example.com"})
    token = link_token(only_message_to("once@example.com", "Reset your password"))
    reset = await api.post(
        "/api/auth/password/reset/confirm",
        json={"token": token, "new_password": "yet another passphrase"},
    )
    assert await types_of("once@example.com") == ["signup", "password_changed", "password_reset"]
    for type, answer in (("password_changed", changed), ("password_reset", reset)):
        event = await AuthEvent.objects.aget(type=type)
        assert event.session_id == access_token_decode(answer.json()["access_token"]).session_id
        assert event.detail == {}


async def test_a_password_set_in_a_shell_records_password_changed_once(api):
    from accounts.models import User

    await signup(api, "shell.set@example.com")

    def set_in_shell() -> None:
        user = User.objects.get(email="shell.set@example.com")
        user.set_password("set-in-a-shell-123")
        user.save()

    await sync_to_async(set_in_shell)()
    assert await types_of("shell.set@example.com") == ["signup", "password_changed"]
    event = await AuthEvent.objects.aget(type="password_changed")
    assert event.detail == {"via": "save"} and event.session_id is None


async def test_an_event_that_cannot_be_written_undoes_its_change(api):
    session = await signup(api, "atomic@example.com")

    def broken_receiver(sender, **kwargs):
        raise RuntimeError("the audit table is gone")

    auth_event.connect(broken_receiver, dispatch_uid="test.broken")
    try:
        response = await api.post("/api/auth/signout", headers=bearer(session))
    finally:
        auth_event.disconnect(dispatch_uid="test.broken")
    assert response.status_code == 500
    assert (await api.get("/api/auth/me", headers=bearer(session))).status_code == 200
    assert await types_of("atomic@example.com") == ["signup"]


async def test_an_event_sent_outside_a_transaction_is_refused():
    from accounts.signals import EventOutsideTransaction, auth_event_send

    with pytest.raises(EventOutsideTransaction):
        await sync_to_async(auth_event_send)(EventType.SIGNIN, user_id=uuid.uuid4())


async def test_second_factor_actions_record_their_events(api, clock):
    session = await verified_signup(api, "mfaevents@example.com")
    secret, codes = await totp_on(api, session, clock)
    await api.post(f"{MFA}/totp/confirm", json={"code": "000000"}, headers=bearer(session))
    await api.post(
        f"{MFA}/recovery-codes", json={"code": code(secret, clock.step())}, headers=bearer(session)
    )
    challenge = (
        await api.post(
            "/api/auth/signin", json={"email": "mfaevents@example.com", "password": PASSWORD}
        )
    ).json()
    await api.post(f"{MFA}/verify", json={"mfa_token": challenge["mfa_token"], "code": "111111"})
    clock.now += 30
    verified = await api.post(
        f"{MFA}/verify",
        json={"mfa_token": challenge["mfa_token"], "code": code(secret, clock.step())},
    )
    assert verified.status_code == 200
    clock.now += 30
    await api.post(
        f"{MFA}/totp/disable",
        json={"current_password": PASSWORD, "code": code(secret, clock.step())},
        headers=bearer(session),
    )
    assert await types_of("mfaevents@example.com") == [
        "signup",
        "email_verified",
        "mfa_enabled",
        "recovery_codes_regenerated",
        "mfa_failed",
        "signin",
        "mfa_disabled",
    ]
    signin_event = await AuthEvent.objects.aget(type="signin")
    assert signin_event.detail == {"method": "totp"}
    assert codes  # never in any event
    details = [str(e.detail) async for e in AuthEvent.objects.all()]
    assert not any(secret in d or any(c in d for c in codes) for d in details)


async def test_events_lists_the_callers_own_newest_first_paginated(api):
    session = await signup(api, "reader@example.com")
    for _ in range(3):
        await signin(api, "reader@example.com")
    await signup(api, "stranger@example.com")
    response = await api.get(EVENTS, headers=bearer(session))
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["count"] == 4
    assert [item["type"] for item in body["items"]] == ["signin", "signin", "signin", "signup"]
    assert set(body["items"][0]) == {"type", "at", "ip", "user_agent", "session_id", "method"}
    assert [item["method"] for item in body["items"]] == ["password"] * 3 + [None]
    times = [item["at"] for item in body["items"]]
    assert times == sorted(times, reverse=True)
    page = (await api.get(EVENTS, params={"limit": 2, "offset": 2}, headers=bearer(session))).json()
    assert page["count"] == 4
    assert [item["type"] for item in page["items"]] == ["signin", "signup"]
    assert (await api.get(EVENTS, params={"limit": 0}, headers=bearer(session))).status_code == 422
    assert (await api.get(EVENTS)).status_code == 401


async def test_events_next_cursor_and_deep_offsets_give_the_pages_the_order_gives(api):
    """1,250 events, three at each time (ties broken by id): the pages walked with `next` and
    `before`, and those walked with offsets (deep ones skip through the index alone), are
    both exactly the newest-first order, each event once."""
    session = await signup(api, "many-events@example.com")
    user_id = session["user"]["id"]
    start = timezone.now() - timedelta(days=1)
    await AuthEvent.objects.abulk_create(
        AuthEvent(
            type="signin",
            user_id=user_id,
            at=start + timedelta(seconds=n // 3),
            user_agent=f"agent {n}",
        )
        for n in range(1_249)
    )
    order = [
        e.user_agent async for e in AuthEvent.objects.filter(user_id=user_id).order_by("-at", "-id")
    ]
    assert len(order) == 1_250

    by_cursor, params = [], {"limit": 200}
    while True:
        page = (await api.get(EVENTS, params=params, headers=bearer(session))).json()
        assert page["count"] == 1_250
        by_cursor += [item["user_agent"] for item in page["items"]]
        if page["next"] is None:
            break
        params = {"limit": 200, "before": page["next"]}
    assert by_cursor == order

    by_offset = []
    for offset in range(0, 1_250, 200):
        page = (
            await api.get(EVENTS, params={"limit": 200, "offset": offset}, headers=bearer(session))
        ).json()
        by_offset += [item["user_agent"] for item in page["items"]]
        assert (page["next"] is None) == (offset + 200 >= 1_250)
    assert by_offset == order

    # An offset counts from the cursor.
    first = (await api.get(EVENTS, params={"limit": 10}, headers=bearer(session))).json()
    after = await api.get(
        EVENTS,
        params={"limit": 5, "offset": 1_000, "before": first["next"]},
        headers=bearer(session),
    )
    assert [item["user_agent"] for item in after.json()["items"]] == order[1_010:1_015]


@pytest.mark.parametrize(
    "cursor",
    ["x", "not a cursor", "bm90IGEgY3Vyc29y", "MjAyNi0wMS0wMVQwMDowMDowMHw1", "A" * 101],
    ids=["short", "spaces", "other-text", "no-time-zone", "too-long"],
)
async def test_a_before_that_is_no_cursor_of_ours_is_422(api, cursor):
    session = await signup(api, "bad-cursor@example.com")
    response = await api.get(EVENTS, params={"before": cursor}, headers=bearer(session))
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "before"]


@pytest.mark.postgresql
def test_events_naming_a_staff_member_are_found_through_their_index():
    """The erasure of a staff member's account looks for the events naming them: one index
    lookup (authevent_staff), not a scan of every event, as long as the query matches it."""
    from django.db import connection, transaction

    from accounts.models import User
    from audit.selectors import auth_events_naming_staff

    staff = User.objects.create(email="staff-index@example.com")
    AuthEvent.objects.create(type="admin_action", user=staff, detail={"staff_id": str(staff.pk)})
    with transaction.atomic(), connection.cursor() as cursor:
        # A handful of rows: the planner would rather read them all, unless told not to.
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = auth_events_naming_staff(staff_id=str(staff.pk)).explain()
    assert "authevent_staff" in plan
    assert auth_events_naming_staff(staff_id=str(staff.pk)).count() == 1


async def test_purge_drops_events_older_than_the_retention(settings):
    from accounts.models import User

    settings.AUDIT_RETENTION_DAYS = 30
    user = await User.objects.acreate_user("purge@example.com", PASSWORD)
    now = timezone.now()
    await AuthEvent.objects.acreate(type="signin", user=user, at=now - timedelta(days=31))
    await AuthEvent.objects.acreate(type="signin", user=user, at=now - timedelta(days=29))
    out = StringIO()
    await sync_to_async(call_command)("purge", stdout=out)
    assert " 1 event(s)" in out.getvalue()
    assert await AuthEvent.objects.acount() == 1


async def test_a_wrong_admin_login_password_records_signin_failed(api):
    from accounts.models import User
    from tests.accounts.test_admin import admin_login

    await User.objects.acreate_user("adminop@example.com", "operator-passphrase", is_staff=True)
    await admin_login(api, "adminop@example.com", "wrong passphrase")
    await admin_login(api, "nobody-here@example.com", "wrong passphrase")
    assert await types_of("adminop@example.com") == ["signin_failed"]
    assert await AuthEvent.objects.acount() == 1


async def test_an_offset_beyond_what_the_database_can_count_is_422(api):
    session = await signup(api, "far-offset@example.com")
    response = await api.get("/api/auth/events", params={"offset": 2**70}, headers=bearer(session))
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "offset"]
