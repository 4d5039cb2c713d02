"""The admin: a user's TOTP status and reset, admin actions recorded, events read-only, and no
secret or recovery code on any page."""

import pytest

from accounts.models import AuthSession
from audit.models import AuthEvent
from mfa.models import RecoveryCode, TOTPDevice
from tests.accounts.helpers import bearer, signup, verified_signup
from tests.accounts.test_admin import csrf_token, staff  # noqa: F401 (fixture)
from tests.mfa.helpers import totp_on

pytestmark = pytest.mark.django_db(transaction=True)


async def test_user_page_shows_totp_status_and_never_the_secret(api, staff, clock):  # noqa: F811
    session = await verified_signup(api, "shown@example.com")
    user_id = session["user"]["id"]
    page = await api.get(f"/admin/accounts/user/{user_id}/change/")
    assert page.status_code == 200
    assert "Two-factor" in page.text and "Off" in page.text
    secret, codes = await totp_on(api, session, clock)
    page = await api.get(f"/admin/accounts/user/{user_id}/change/")
    assert "TOTP on since" in page.text
    listing = await api.get("/admin/accounts/user/")
    assert "TOTP on since" in listing.text
    for text in (page.text, listing.text):
        assert secret not in text
        assert not any(code in text for code in codes)
    # Neither the devices nor the codes have admin pages of their own.
    assert (await api.get("/admin/mfa/totpdevice/")).status_code == 404
    assert (await api.get("/admin/mfa/recoverycode/")).status_code == 404


async def test_staff_reset_turns_totp_off_and_records_an_admin_action(api, staff, clock):  # noqa: F811
    session = await verified_signup(api, "locked@example.com")
    await totp_on(api, session, clock)
    listing = await api.get("/admin/accounts/user/")
    response = await api.post(
        "/admin/accounts/user/",
        data={
            "action": "mfa_reset",
            "_selected_action": [session["user"]["id"]],
            "csrfmiddlewaretoken": csrf_token(listing.text),
        },
    )
    assert response.status_code == 302
    assert not await TOTPDevice.objects.aexists()
    assert not await RecoveryCode.objects.aexists()
    event = await AuthEvent.objects.aget(type="admin_action")
    assert str(event.user_id) == session["user"]["id"]
    assert event.detail["action"] == "mfa_reset"
    assert event.detail["staff_id"] == str(staff.pk)
    signin = await api.post(
        "/api/auth/signin",
        json={"email": "locked@example.com", "password": "correct horse battery staple"},
    )
    assert "access_token" in signin.json()


async def test_admin_revoke_action_records_one_admin_action_per_user(api, staff):  # noqa: F811
    first = await signup(api, "revoked1@example.com")
    await signup(api, "revoked2@example.com")
    ids = [str(pk) async for pk in AuthSession.objects.values_list("pk", flat=True)]
    listing = await api.get("/admin/accounts/authsession/")
    response = await api.post(
        "/admin/accounts/authsession/",
        data={
            "action": "revoke_sessions",
            "_selected_action": ids,
            "csrfmiddlewaretoken": csrf_token(listing.text),
        },
    )
    assert response.status_code == 302
    assert (await api.get("/api/auth/me", headers=bearer(first))).status_code == 401
    events = [e async for e in AuthEvent.objects.filter(type="admin_action").select_related("user")]
    assert sorted(e.user.email for e in events) == ["revoked1@example.com", "revoked2@example.com"]
    assert all(e.detail["action"] == "revoke_sessions" and e.detail["revoked"] == 1 for e in events)


async def test_user_change_form_records_an_admin_action_with_field_names(api, staff):  # noqa: F811
    session = await signup(api, "edited@example.com")
    user_id = session["user"]["id"]
    page = await api.get(f"/admin/accounts/user/{user_id}/change/")
    response = await api.post(
        f"/admin/accounts/user/{user_id}/change/",
        data={
            "email": "edited@example.com",
            "is_active": "",  # deactivate
            "auth_sessions-TOTAL_FORMS": "1",
            "auth_sessions-INITIAL_FORMS": "1",
            "auth_sessions-MIN_NUM_FORMS": "0",
            "auth_sessions-MAX_NUM_FORMS": "1000",
            "auth_sessions-0-id": str((await AuthSession.objects.aget()).pk),
            "auth_sessions-0-user": user_id,
            "csrfmiddlewaretoken": csrf_token(page.text),
        },
    )
    assert response.status_code == 302, response.text[:2000]
    event = await AuthEvent.objects.aget(type="admin_action")
    assert event.detail["action"] == "change"
    assert event.detail["fields"] == ["is_active"]


async def test_events_admin_lists_and_filters_but_cannot_change(api, staff):  # noqa: F811
    await signup(api, "audited@example.com")
    listing = await api.get("/admin/audit/authevent/", params={"type__exact": "signup"})
    assert listing.status_code == 200
    assert "audited@example.com" in listing.text
    event = await AuthEvent.objects.aget()
    detail = await api.get(f"/admin/audit/authevent/{event.pk}/change/")
    assert detail.status_code == 200
    assert 'name="_save"' not in detail.text
    assert (await api.get("/admin/audit/authevent/add/")).status_code == 403
