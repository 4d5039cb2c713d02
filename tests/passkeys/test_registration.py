"""Registering, listing, renaming and removing passkeys: the options' rules, the verification of
what the browser sends, freshness, the limit, and the events."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from accounts.devices import device_label
from accounts.models import User
from audit.models import AuthEvent
from passkeys.flows.registration import passkey_registration_options
from passkeys.models import Passkey, PasskeyChallenge, PasskeyUser
from tests.accounts.helpers import age_sessions, bearer, signup, verified_signup
from tests.passkeys.helpers import AUTH, register, register_options, registered
from tests.support.authenticator import SoftAuthenticator, unb64url
from tests.support.mail import html_part, sent_to

pytestmark = pytest.mark.django_db(transaction=True)


async def test_registration_options_require_a_resident_key_and_user_verification(api):
    session = await verified_signup(api, "options@example.com")
    made = await register_options(api, session)
    options = made["options"]
    assert options["rp"] == {"id": "localhost", "name": "Accounts"}
    assert options["authenticatorSelection"]["residentKey"] == "required"
    assert options["authenticatorSelection"]["userVerification"] == "required"
    assert options["attestation"] == "none"
    assert options["excludeCredentials"] == []
    assert options["challenge"] == made["challenge_token"]
    # The user handle is random, never the email, and the same on every registration.
    handle = await PasskeyUser.objects.aget()
    assert options["user"]["id"] == handle.handle
    assert b"options@example.com" not in unb64url(options["user"]["id"])
    assert options["user"]["name"] == "options@example.com"
    again = await register_options(api, session)
    assert again["options"]["user"]["id"] == handle.handle
    # Only the challenge's hash is stored.
    stored = [c.challenge_hash async for c in PasskeyChallenge.objects.all()]
    assert made["challenge_token"] not in stored and all(len(h) == 64 for h in stored)


async def test_register_keeps_the_passkey_and_lists_it_and_excludes_it_next_time(api):
    session = await verified_signup(api, "register@example.com")
    authenticator = SoftAuthenticator(backed_up=True)
    passkey = await registered(api, session, authenticator)
    assert set(passkey) == {
        "id",
        "name",
        "created_at",
        "last_used_at",
        "backup_eligible",
        "backed_up",
    }
    assert passkey["backed_up"] is True and passkey["backup_eligible"] is True
    assert passkey["last_used_at"] is None
    listed = await api.get(f"{AUTH}/passkeys", headers=bearer(session))
    assert listed.json() == [passkey]
    made = await register_options(api, session)
    excluded = [unb64url(c["id"]) for c in made["options"]["excludeCredentials"]]
    assert excluded == [authenticator.only_credential_id()]
    event = await AuthEvent.objects.filter(type="passkey_added").aget()
    assert event.detail == {"passkey_id": passkey["id"]}


async def test_register_takes_the_name_given_or_names_the_device(api):
    session = await verified_signup(api, "named@example.com")
    made = await register_options(api, session)
    credential = SoftAuthenticator().create(made["options"])
    response = await api.post(
        f"{AUTH}/passkeys/register",
        json={"challenge_token": made["challenge_token"], "credential": credential, "name": "Key"},
        headers=bearer(session),
    )
    assert response.json()["name"] == "Key"
    other = await register(api, session, SoftAuthenticator())
    assert other.json()["name"] == device_label(api.headers["user-agent"])


@pytest.mark.parametrize(
    ("create", "why"),
    [
        ({"origin": "https://evil.example"}, "wrong origin"),
        ({"rp_id": "evil.example"}, "wrong RP ID"),
        ({"uv": False}, "no user verification"),
        ({"challenge": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}, "another challenge"),
    ],
)
async def test_a_registration_that_does_not_verify_is_400(api, create, why):
    session = await verified_signup(api, "bad@example.com")
    response = await register(api, session, SoftAuthenticator(), **create)
    assert response.status_code == 400, why
    assert response.json() == {"detail": "Invalid passkey"}
    assert await Passkey.objects.acount() == 0


@pytest.mark.parametrize(
    "credential",
    [
        {},
        {"id": "x", "rawId": "x", "type": "public-key", "response": {}},
        {
            "id": "!!",
            "rawId": "!!",
            "type": "public-key",
            "response": {"clientDataJSON": "!!", "attestationObject": "%%"},
        },
        {
            "id": "AAAA",
            "rawId": "AAAA",
            "type": "public-key",
            "response": {"clientDataJSON": "AAAA", "attestationObject": "AAAA"},
        },
        {"id": 5, "rawId": [1], "type": None, "response": "no"},
    ],
)
async def test_malformed_credential_json_is_400_never_500(api, credential):
    session = await verified_signup(api, "malformed@example.com")
    made = await register_options(api, session)
    response = await api.post(
        f"{AUTH}/passkeys/register",
        json={"challenge_token": made["challenge_token"], "credential": credential},
        headers=bearer(session),
    )
    assert response.status_code == 400
    assert response.json() == {"detail": "Invalid passkey"}


async def test_a_registration_challenge_is_single_use_and_the_users_own(api):
    alice = await verified_signup(api, "alice@example.com")
    bob = await verified_signup(api, "bob@example.com")
    made = await register_options(api, alice)
    authenticator = SoftAuthenticator()
    credential = authenticator.create(made["options"])
    body = {"challenge_token": made["challenge_token"], "credential": credential}
    stolen = await api.post(f"{AUTH}/passkeys/register", json=body, headers=bearer(bob))
    assert stolen.status_code == 400
    first = await api.post(f"{AUTH}/passkeys/register", json=body, headers=bearer(alice))
    assert first.status_code == 201
    replayed = await api.post(f"{AUTH}/passkeys/register", json=body, headers=bearer(alice))
    assert replayed.status_code == 400
    assert await Passkey.objects.acount() == 1


async def test_an_expired_registration_challenge_is_400(api):
    session = await verified_signup(api, "expired@example.com")
    made = await register_options(api, session)
    await PasskeyChallenge.objects.aupdate(expires_at=timezone.now() - timedelta(seconds=1))
    credential = SoftAuthenticator().create(made["options"])
    response = await api.post(
        f"{AUTH}/passkeys/register",
        json={"challenge_token": made["challenge_token"], "credential": credential},
        headers=bearer(session),
    )
    assert response.status_code == 400


async def test_registration_and_removal_need_a_fresh_session(api):
    session = await verified_signup(api, "stale@example.com")
    passkey = await registered(api, session, SoftAuthenticator())
    await age_sessions("stale@example.com", 3600)
    for method, path in (
        ("post", f"{AUTH}/passkeys/register/options"),
        ("delete", f"{AUTH}/passkeys/{passkey['id']}"),
    ):
        response = await getattr(api, method)(path, headers=bearer(session))
        assert response.status_code == 401, path
        assert response.json() == {"detail": "Re-authentication required"}
        assert "insufficient_user_authentication" in response.headers["www-authenticate"]
    # Listing and renaming do not.
    assert (await api.get(f"{AUTH}/passkeys", headers=bearer(session))).status_code == 200
    renamed = await api.patch(
        f"{AUTH}/passkeys/{passkey['id']}", json={"name": "Laptop"}, headers=bearer(session)
    )
    assert renamed.status_code == 200 and renamed.json()["name"] == "Laptop"


async def test_at_most_the_configured_number_of_passkeys(api, settings):
    settings.WEBAUTHN_MAX_PASSKEYS = 2
    session = await verified_signup(api, "limit@example.com")
    authenticator = SoftAuthenticator()
    await registered(api, session, authenticator)
    pending = await register_options(api, session)  # asked while there was still room
    await registered(api, session, authenticator)
    refused = await api.post(f"{AUTH}/passkeys/register/options", headers=bearer(session))
    assert refused.status_code == 409
    late = await api.post(
        f"{AUTH}/passkeys/register",
        json={
            "challenge_token": pending["challenge_token"],
            "credential": authenticator.create(pending["options"]),
        },
        headers=bearer(session),
    )
    assert late.status_code == 409
    assert await Passkey.objects.acount() == 2


async def test_rename_and_remove_answer_404_for_another_users_or_an_unknown_passkey(api):
    alice = await verified_signup(api, "owner@example.com")
    bob = await verified_signup(api, "other@example.com")
    passkey = await registered(api, alice, SoftAuthenticator())
    path = f"{AUTH}/passkeys/{passkey['id']}"
    assert (await api.patch(path, json={"name": "x"}, headers=bearer(bob))).status_code == 404
    assert (await api.delete(path, headers=bearer(bob))).status_code == 404
    assert (await api.delete(f"{AUTH}/passkeys/999999", headers=bearer(alice))).status_code == 404
    removed = await api.delete(path, headers=bearer(alice))
    assert removed.status_code == 204
    assert await Passkey.objects.acount() == 0
    event = await AuthEvent.objects.filter(type="passkey_removed").aget()
    assert event.detail == {"passkey_id": passkey["id"]}


@pytest.mark.parametrize("passkey_id", ["abc", "null,null", "-1", "99999999999999999999", "\u0661"])
async def test_a_path_that_names_no_passkey_is_the_same_404(api, passkey_id):
    session = await signup(api, "paths@example.com")
    path = f"{AUTH}/passkeys/{passkey_id}"
    assert (await api.delete(path, headers=bearer(session))).status_code == 404
    renamed = await api.patch(path, json={"name": "x"}, headers=bearer(session))
    assert renamed.status_code == 404
    assert renamed.json() == {"detail": "Passkey not found"}


PASSKEY_ADDED = "A passkey was added to your account"


async def test_adding_a_passkey_mails_a_notice_with_a_link_to_the_sessions(api, settings):
    session = await verified_signup(api, "told.passkey@example.com")
    await registered(api, session, SoftAuthenticator())
    refused = await api.post(
        f"{AUTH}/passkeys/register",
        json={"challenge_token": "dead", "credential": {"id": "x"}},
        headers=bearer(session),
    )
    assert refused.status_code == 400  # a refused registration tells nothing
    [notice] = [m for m in sent_to("told.passkey@example.com") if m.subject == PASSKEY_ADDED]
    [passkey] = [p async for p in Passkey.objects.all()]
    for part in (notice.body, html_part(notice)):
        assert passkey.name in part
        assert settings.FRONTEND_SESSIONS_URL in part
        assert f"{timezone.now():%Y-%m-%d}" in part
    assert "<html" in html_part(notice)


async def test_the_passkey_notice_goes_through_the_queue(api, settings):
    session = await verified_signup(api, "queued.passkey@example.com")
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}
    }
    mail.outbox.clear()
    await registered(api, session, SoftAuthenticator())
    [queued] = [row async for row in DBTaskResult.objects.all()]
    assert queued.task_path == "accounts.notices.account_change_notice_send"
    kwargs = queued.args_kwargs["kwargs"]
    assert kwargs["kind"] == "passkey_added" and kwargs["to"] == "queued.passkey@example.com"
    assert mail.outbox == []


async def test_an_unverified_account_cannot_register_a_passkey(api):
    """Someone who signed up with another person's address must not put their passkey on the
    account before its owner proves the mailbox: no options, and options made otherwise (before
    the rule, say) cannot be spent."""
    session = await signup(api, "squatter@example.com")
    refused = await api.post(f"{AUTH}/passkeys/register/options", headers=bearer(session))
    assert refused.status_code == 403
    assert refused.json() == {"detail": "Verify your email address first"}

    user = await User.objects.aget(email="squatter@example.com")
    made = await passkey_registration_options(user=user)
    credential = SoftAuthenticator().create(made.options)
    body = {"challenge_token": made.challenge_token, "credential": credential}
    response = await api.post(f"{AUTH}/passkeys/register", json=body, headers=bearer(session))
    assert response.status_code == 403
    assert response.json() == {"detail": "Verify your email address first"}
    assert not await Passkey.objects.aexists()
