"""Accounts whose address nobody has proven (accounts.unverified): someone signs up with another
person's address and sets things up; the owner of the mailbox later signs in with an emailed code
or resets the password, and takes the account over. The squatter's second factor, passkey and
identity are made here as rows, as they were left by the time such additions were allowed."""

import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone

from accounts.models import AuthSession, User
from audit.models import AuthEvent
from mfa import totp
from mfa.models import RecoveryCode, TOTPDevice
from mfa.sealing import secret_seal
from passkeys.ceremony import registration_options, registration_verify
from passkeys.flows.registration import user_handle_ensure
from passkeys.models import Passkey, PasskeyUser
from social.models import Identity
from tests.accounts.flows.test_email_code import ask, confirm
from tests.accounts.helpers import (
    ask_email_change,
    bearer,
    confirm_reset,
    signin,
    signup,
    verified_signup,
)
from tests.mfa.helpers import clock, code
from tests.passkeys.helpers import passkey_signin
from tests.support.authenticator import SoftAuthenticator
from tests.support.mail import link_token, only_message_to

pytestmark = pytest.mark.django_db(transaction=True)
__all__ = ["clock"]  # the TOTP clock fixture
VICTIM = "victim@example.com"
SQUATTER_PASSWORD = "the squatter's own passphrase"
OWNER_PASSWORD = "the owner's new passphrase"
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


@sync_to_async
def squatter_credentials(user: User, authenticator: SoftAuthenticator) -> None:
    """TOTP on with recovery codes, a working passkey and a linked identity, on `user`."""
    now = timezone.now()
    TOTPDevice.objects.create(user=user, secret_sealed=secret_seal(SECRET), confirmed_at=now)
    RecoveryCode.objects.create(user=user, code_hash=totp.recovery_code_hash("squatter-code"))
    challenge = b"legacy registration challenge...."
    options = registration_options(
        challenge=challenge,
        user_handle=user_handle_ensure(user_id=user.pk),
        user_name=user.email,
        exclude=[],
    )
    made = registration_verify(credential=authenticator.create(options), challenge=challenge)
    Passkey.objects.create(
        user=user, name="squatter's", credential_id=made.credential_id, public_key=made.public_key
    )
    Identity.objects.create(
        user=user, provider="acme", issuer="https://idp.example", subject="squatter", email=VICTIM
    )


async def assert_nothing_of_the_squatter_left(user: User) -> None:
    for model in (TOTPDevice, RecoveryCode, Passkey, PasskeyUser, Identity):
        assert not await model.objects.filter(user_id=user.pk).aexists(), model


async def assert_signed_out(api, session: dict) -> None:
    assert (await api.get("/api/auth/me", headers=bearer(session))).status_code == 401
    refresh = {"refresh_token": session["refresh_token"]}
    assert (await api.post("/api/auth/refresh", json=refresh)).status_code == 401


async def test_the_owners_email_code_takes_the_account_over_from_whoever_signed_up(api):
    squatter = await signup(api, VICTIM, SQUATTER_PASSWORD)
    user = await User.objects.aget(email=VICTIM)
    authenticator = SoftAuthenticator()
    await squatter_credentials(user, authenticator)

    response = await confirm(api, VICTIM, await ask(api, VICTIM))
    assert response.status_code == 200, response.text
    owner = response.json()
    assert "access_token" in owner and "mfa_required" not in owner  # no squatter's challenge
    assert owner["user"]["email_verified"] is True
    assert (await api.get("/api/auth/me", headers=bearer(owner))).status_code == 200
    types = [e.type async for e in AuthEvent.objects.filter(user=user).order_by("at", "id")]
    assert types == ["signup", "email_verified", "unverified_credentials_cleared", "signin"]

    await assert_signed_out(api, squatter)
    revoked = AuthSession.objects.filter(user=user, revoked_at__isnull=False)
    assert [session.revoked_reason async for session in revoked] == ["mailbox_proven"]
    wrong = {"email": VICTIM, "password": SQUATTER_PASSWORD}
    assert (await api.post("/api/auth/signin", json=wrong)).status_code == 401
    assert not (await User.objects.aget(pk=user.pk)).has_usable_password()
    await assert_nothing_of_the_squatter_left(user)
    assert (await passkey_signin(api, authenticator)).status_code == 401

    event = await AuthEvent.objects.aget(type="unverified_credentials_cleared")
    assert event.detail == {
        "method": "email_code",
        "removed": {
            "authenticator(s)": 1,
            "recovery code(s)": 1,
            "passkey(s)": 1,
            "provider identity(ies)": 1,
        },
        "sessions_revoked": 1,
        "password_dropped": True,
    }


async def test_the_owners_reset_removes_the_squatters_passkey_identity_and_second_factor(api):
    squatter = await signup(api, VICTIM, SQUATTER_PASSWORD)
    user = await User.objects.aget(email=VICTIM)
    authenticator = SoftAuthenticator()
    await squatter_credentials(user, authenticator)

    await api.post("/api/auth/password/reset", json={"email": VICTIM})
    response = await confirm_reset(api, VICTIM, OWNER_PASSWORD)
    assert response.status_code == 200, response.text
    assert "access_token" in response.json()  # the squatter's TOTP asks for nothing

    await assert_signed_out(api, squatter)
    await assert_nothing_of_the_squatter_left(user)
    assert (await passkey_signin(api, authenticator)).status_code == 401
    await signin(api, VICTIM, OWNER_PASSWORD)
    event = await AuthEvent.objects.aget(type="unverified_credentials_cleared")
    assert event.detail["method"] == "password_reset"
    assert event.detail["password_dropped"] is False  # the owner's, set by this reset


async def test_the_squatters_pending_address_change_dies_with_the_takeover(api):
    squatter = await signup(api, VICTIM, SQUATTER_PASSWORD)
    asked = await ask_email_change(api, squatter, "squatter@example.com", SQUATTER_PASSWORD)
    assert asked.status_code == 202
    token = link_token(only_message_to("squatter@example.com", "Confirm your new email address"))

    assert (await confirm(api, VICTIM, await ask(api, VICTIM))).status_code == 200
    moved = await api.post("/api/auth/email/change/confirm", json={"token": token})
    assert moved.status_code == 400
    assert await User.objects.filter(email=VICTIM).aexists()


async def test_the_squatters_half_done_signin_with_their_totp_dies_with_the_takeover(api, clock):
    await signup(api, VICTIM, SQUATTER_PASSWORD)
    user = await User.objects.aget(email=VICTIM)
    await squatter_credentials(user, SoftAuthenticator())
    challenge = await signin(api, VICTIM, SQUATTER_PASSWORD)
    assert challenge["mfa_required"] is True

    assert (await confirm(api, VICTIM, await ask(api, VICTIM))).status_code == 200
    body = {"mfa_token": challenge["mfa_token"], "code": code(SECRET, clock.step())}
    assert (await api.post("/api/auth/mfa/verify", json=body)).status_code == 401


async def test_a_verified_accounts_email_code_with_totp_still_asks_for_it_and_keeps_everything(
    api, users
):
    user = await users.create(VICTIM, email_verified=True)
    await squatter_credentials(user, SoftAuthenticator())
    response = await confirm(api, VICTIM, await ask(api, VICTIM))
    assert response.status_code == 200
    assert response.json()["mfa_required"] is True
    for model in (TOTPDevice, RecoveryCode, Passkey, Identity):
        assert await model.objects.filter(user_id=user.pk).aexists(), model
    await signin(api, VICTIM)  # the challenge again: the password still works
    assert not await AuthEvent.objects.filter(type="unverified_credentials_cleared").aexists()


async def test_a_verified_accounts_reset_with_totp_still_asks_for_it(api, users):
    user = await users.create(VICTIM, email_verified=True)
    await squatter_credentials(user, SoftAuthenticator())
    await api.post("/api/auth/password/reset", json={"email": VICTIM})
    response = await confirm_reset(api, VICTIM, OWNER_PASSWORD)
    assert response.json()["mfa_required"] is True
    assert await Passkey.objects.filter(user_id=user.pk).aexists()


async def test_following_the_verification_link_keeps_the_password_and_the_session(api):
    session = await verified_signup(api, "newcomer@example.com")
    assert (await api.get("/api/auth/me", headers=bearer(session))).json()["email_verified"]
    await signin(api, "newcomer@example.com")
    assert not await AuthEvent.objects.filter(type="unverified_credentials_cleared").aexists()


async def test_an_unverified_account_with_nothing_set_up_records_nothing_on_reset(api, users):
    await users.create(VICTIM)
    await api.post("/api/auth/password/reset", json={"email": VICTIM})
    assert (await confirm_reset(api, VICTIM, OWNER_PASSWORD)).status_code == 200
    assert not await AuthEvent.objects.filter(type="unverified_credentials_cleared").aexists()


async def test_unverified_staff_keep_their_second_factor_through_a_reset(api, users):
    """Staff are made by an operator, and set up TOTP at the admin login without a verified
    address: a reset still asks for their code."""
    user = await users.create("operator@example.com", is_staff=True)
    await squatter_credentials(user, SoftAuthenticator())
    await api.post("/api/auth/password/reset", json={"email": "operator@example.com"})
    response = await confirm_reset(api, "operator@example.com", OWNER_PASSWORD)
    assert response.json()["mfa_required"] is True
    assert await TOTPDevice.objects.filter(user_id=user.pk).aexists()
