"""A password set anywhere ends every session, unused link and pending second-factor challenge of
its user, and a password change needs a calling session that is still live when the change is
written."""

import httpx
import pytest
from asgiref.sync import sync_to_async
from django.db import transaction

from accounts import selectors
from accounts.client import ClientInfo
from accounts.exceptions import AccessTokenRefused
from accounts.flows.password import user_password_change
from accounts.models import AuthSession, User
from accounts.tokens import access_token_decode
from tests.accounts.helpers import bearer, signup
from tests.accounts.test_admin import admin_login, csrf_token
from tests.factories import DEFAULT_PASSWORD
from tests.mfa.helpers import MFA, clock, code, totp_on
from tests.support.mail import link_token, only_message_to, sent_to
from tests.support.markers import POSTGRESQL

__all__ = ["clock"]  # the fixture

pytestmark = [*POSTGRESQL, pytest.mark.attack]
ME = "/api/auth/me"
REFRESH = "/api/auth/refresh"


async def assert_session_dead(api, session: dict) -> None:
    assert (await api.get(ME, headers=bearer(session))).status_code == 401
    refreshed = await api.post(REFRESH, json={"refresh_token": session["refresh_token"]})
    assert refreshed.status_code == 401


async def post_password_form(api, session: dict, staff_email: str, data: dict) -> httpx.Response:
    """Sign in to the admin as a new superuser and post its password form for `session`'s user."""
    await User.objects.acreate_user(
        staff_email, "boss-passphrase", is_staff=True, is_superuser=True
    )
    assert (await admin_login(api, staff_email, "boss-passphrase")).status_code == 302
    url = f"/admin/accounts/user/{session['user']['id']}/password/"
    form = await api.get(url)
    return await api.post(url, data={**data, "csrfmiddlewaretoken": csrf_token(form.text)})


async def test_admin_change_password_form_ends_the_users_sessions(api):
    session = await signup(api, "changed-by-staff@example.com")
    new_password = "set-by-the-operator-1"
    form = {"password1": new_password, "password2": new_password, "usable_password": "true"}
    response = await post_password_form(api, session, "boss@example.com", form)
    assert response.status_code == 302, response.text[:500]
    await assert_session_dead(api, session)
    revoked = await AuthSession.objects.aget(user_id=session["user"]["id"])
    assert revoked.revoked_reason == "password_change"


async def test_admin_disabling_password_login_ends_the_users_sessions(api):
    session = await signup(api, "disabled-by-staff@example.com")
    form = {
        "usable_password": "false",
        "unset-password": "Disable password-based authentication",  # the form's button
    }
    response = await post_password_form(api, session, "boss2@example.com", form)
    assert response.status_code == 302, response.text[:500]
    await assert_session_dead(api, session)


async def test_manage_py_changepassword_ends_the_users_sessions(api, monkeypatch):
    import getpass

    from django.core.management import call_command

    session = await signup(api, "command@example.com")
    monkeypatch.setattr(getpass, "getpass", lambda prompt="": "typed-at-the-prompt-123")
    await sync_to_async(call_command)("changepassword", "command@example.com")
    await assert_session_dead(api, session)


async def test_set_password_and_save_in_a_shell_ends_the_users_sessions(api):
    session = await signup(api, "shell@example.com")

    def set_in_shell() -> None:
        user = User.objects.get(email="shell@example.com")
        user.set_password("set-in-a-shell-123")
        user.save()

    await sync_to_async(set_in_shell)()
    await assert_session_dead(api, session)


async def test_a_password_save_that_rolls_back_leaves_the_sessions_alive(api):
    session = await signup(api, "rolled-back@example.com")

    def set_then_fail() -> None:
        with transaction.atomic():
            user = User.objects.get(email="rolled-back@example.com")
            user.set_password("never-stored-123")
            user.save()
            raise RuntimeError("the surrounding work failed")

    with pytest.raises(RuntimeError):
        await sync_to_async(set_then_fail)()
    assert (await api.get(ME, headers=bearer(session))).status_code == 200


async def test_saving_a_user_without_a_new_password_keeps_the_sessions(api):
    session = await signup(api, "untouched@example.com")
    user = await User.objects.aget(email="untouched@example.com")
    user.is_staff = True
    await user.asave()
    assert (await api.get(ME, headers=bearer(session))).status_code == 200


async def test_password_change_on_a_session_revoked_meanwhile_is_refused(api):
    session = await signup(api, "raced-change@example.com")
    claims = access_token_decode(session["access_token"])
    from django.utils import timezone

    # The request authenticated (its session was live)...
    authenticated = await selectors.auth_session_get_live(
        session_id=claims.session_id, user_id=claims.user_id, now=timezone.now()
    )
    assert authenticated is not None
    # ...then, while its passwords were being hashed, the session was signed out.
    assert (await api.post("/api/auth/signout", headers=bearer(session))).status_code == 200
    with pytest.raises(AccessTokenRefused):
        await user_password_change(
            session=authenticated,
            current_password=DEFAULT_PASSWORD,
            new_password="changed-too-late-123",
            client=ClientInfo(ip="127.0.0.1", user_agent="test"),
        )
    user = await User.objects.aget(email="raced-change@example.com")
    assert user.check_password(DEFAULT_PASSWORD)
    assert not await AuthSession.objects.filter(user=user, revoked_at__isnull=True).aexists()


async def set_with_the_admin_form(api, email: str, user_id: str, monkeypatch) -> None:
    await User.objects.acreate_user(
        f"staff.{email}", "boss-passphrase", is_staff=True, is_superuser=True
    )
    assert (await admin_login(api, f"staff.{email}", "boss-passphrase")).status_code == 302
    url = f"/admin/accounts/user/{user_id}/password/"
    form = await api.get(url)
    response = await api.post(
        url,
        data={
            "password1": "set-by-the-operator-1",
            "password2": "set-by-the-operator-1",
            "usable_password": "true",
            "csrfmiddlewaretoken": csrf_token(form.text),
        },
    )
    assert response.status_code == 302, response.text[:500]


async def set_with_changepassword(api, email: str, user_id: str, monkeypatch) -> None:
    import getpass

    from django.core.management import call_command

    monkeypatch.setattr(getpass, "getpass", lambda prompt="": "typed-at-the-prompt-123")
    await sync_to_async(call_command)("changepassword", email)


async def set_in_a_shell(api, email: str, user_id: str, monkeypatch) -> None:
    def set_password() -> None:
        user = User.objects.get(pk=user_id)
        user.set_password("set-in-a-shell-123")
        user.save()

    await sync_to_async(set_password)()


@pytest.mark.parametrize(
    "set_password", [set_with_the_admin_form, set_with_changepassword, set_in_a_shell]
)
async def test_a_password_set_by_staff_or_in_a_shell_ends_pending_links_and_challenges(
    api, clock, monkeypatch, set_password
):
    email = f"{set_password.__name__.replace('_', '-')}@example.com"
    session = await signup(api, email)
    user_id = session["user"]["id"]
    verify = link_token(only_message_to(email, "Confirm your email address"))
    # Verified with a second link (TOTP needs a verified address): the first one stays unused.
    resent = await api.post("/api/auth/email/verify/resend", headers=bearer(session))
    assert resent.status_code == 202
    [_, second] = [m for m in sent_to(email) if m.subject == "Confirm your email address"]
    verified = await api.post("/api/auth/email/verify", json={"token": link_token(second)})
    assert verified.status_code == 200
    asked = await api.post(
        "/api/auth/email/change",
        json={"new_email": f"taker.{email}", "current_password": DEFAULT_PASSWORD},
        headers=bearer(session),
    )
    assert asked.status_code == 202
    change = link_token(only_message_to(f"taker.{email}", "Confirm your new email address"))
    secret, _ = await totp_on(api, session, clock)
    challenge = await api.post(
        "/api/auth/signin", json={"email": email, "password": DEFAULT_PASSWORD}
    )
    assert challenge.json()["mfa_required"] is True

    await set_password(api, email, user_id, monkeypatch)

    for path, token in (
        ("/api/auth/email/change/confirm", change),
        ("/api/auth/email/verify", verify),
    ):
        refused = await api.post(path, json={"token": token})
        assert refused.status_code == 400, (path, refused.text)
    user = await User.objects.aget(pk=user_id)
    assert user.email == email
    answered = await api.post(
        f"{MFA}/verify",
        json={"mfa_token": challenge.json()["mfa_token"], "code": code(secret, clock.step())},
    )
    assert answered.status_code == 401
    await assert_session_dead(api, session)
