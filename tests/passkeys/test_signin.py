"""Passwordless sign-in with a discoverable passkey: the session with no second step, cookies,
and every way an assertion is refused (origin, RP ID, challenge, counter, owner)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import User
from audit.models import AuthEvent
from passkeys.models import Passkey, PasskeyChallenge
from tests.accounts.helpers import bearer, verified_signup
from tests.mfa.helpers import totp_on
from tests.passkeys.helpers import AUTH, passkey_signin, registered, signin_options
from tests.support.authenticator import SoftAuthenticator
from toolkit.rates import Rate

pytestmark = pytest.mark.django_db(transaction=True)
INVALID = {"detail": "Invalid passkey"}


async def test_signin_options_allow_any_discoverable_passkey(api):
    made = await signin_options(api)
    assert "allowCredentials" not in made["options"] or made["options"]["allowCredentials"] == []
    assert made["options"]["userVerification"] == "required"
    assert made["options"]["rpId"] == "localhost"


async def test_a_passkey_signs_in_with_no_second_step_even_with_totp_on(api, clock):
    session = await verified_signup(api, "passwordless@example.com")
    authenticator = SoftAuthenticator()
    await registered(api, session, authenticator)
    await totp_on(api, session, clock)
    response = await passkey_signin(api, authenticator)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"user", "access_token", "refresh_token", "token_type", "expires_in"}
    assert body["user"]["email"] == "passwordless@example.com"
    me = await api.get(f"{AUTH}/me", headers=bearer(body))
    assert me.status_code == 200
    event = await AuthEvent.objects.filter(type="signin").order_by("-at").afirst()
    assert event is not None
    assert event.detail == {"method": "passkey"}
    passkey = await Passkey.objects.aget()
    assert passkey.sign_count == 1 and passkey.last_used_at is not None


async def test_passkey_signin_in_cookie_mode_sets_the_cookies(api):
    session = await verified_signup(api, "cookies@example.com")
    authenticator = SoftAuthenticator()
    await registered(api, session, authenticator)
    made = await signin_options(api)
    response = await api.post(
        f"{AUTH}/passkeys/signin",
        json={
            "challenge_token": made["challenge_token"],
            "credential": authenticator.get(made["options"]),
        },
        headers={"X-Auth-Transport": "cookie"},
    )
    assert response.status_code == 200
    assert "refresh_token" not in response.json()
    cookies = response.headers.get_list("set-cookie")
    assert any(c.startswith("__Host-access=") and "HttpOnly" in c for c in cookies)
    assert any(c.startswith("__Host-refresh=") for c in cookies)


@pytest.mark.parametrize(
    ("get", "why"),
    [
        ({"origin": "https://evil.example"}, "wrong origin"),
        ({"origin": "http://localhost:3001"}, "another port"),
        ({"rp_id": "evil.example"}, "wrong RP ID"),
        ({"uv": False}, "no user verification"),
        ({"challenge": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}, "another challenge"),
    ],
)
async def test_an_assertion_that_does_not_verify_is_401(api, get, why):
    session = await verified_signup(api, "refused@example.com")
    authenticator = SoftAuthenticator()
    await registered(api, session, authenticator)
    response = await passkey_signin(api, authenticator, **get)
    assert response.status_code == 401, why
    assert response.json() == INVALID
    assert not await AuthEvent.objects.filter(type="signin", detail__method="passkey").aexists()


async def test_a_signin_challenge_is_single_use(api):
    session = await verified_signup(api, "once@example.com")
    authenticator = SoftAuthenticator()
    await registered(api, session, authenticator)
    made = await signin_options(api)
    body = {
        "challenge_token": made["challenge_token"],
        "credential": authenticator.get(made["options"]),
    }
    assert (await api.post(f"{AUTH}/passkeys/signin", json=body)).status_code == 200
    replayed = await api.post(f"{AUTH}/passkeys/signin", json=body)
    assert replayed.status_code == 401 and replayed.json() == INVALID


async def test_an_expired_signin_challenge_is_401(api):
    session = await verified_signup(api, "late@example.com")
    authenticator = SoftAuthenticator()
    await registered(api, session, authenticator)
    made = await signin_options(api)
    await PasskeyChallenge.objects.filter(purpose="signin").aupdate(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    body = {
        "challenge_token": made["challenge_token"],
        "credential": authenticator.get(made["options"]),
    }
    assert (await api.post(f"{AUTH}/passkeys/signin", json=body)).status_code == 401


async def test_a_registration_challenge_does_not_sign_in(api):
    session = await verified_signup(api, "purpose@example.com")
    authenticator = SoftAuthenticator()
    await registered(api, session, authenticator)
    made = await api.post(f"{AUTH}/passkeys/register/options", headers=bearer(session))
    token = made.json()["challenge_token"]
    credential = authenticator.get({"challenge": token})
    response = await api.post(
        f"{AUTH}/passkeys/signin", json={"challenge_token": token, "credential": credential}
    )
    assert response.status_code == 401


async def test_a_counter_gone_backwards_refuses_and_records_a_suspected_clone(api):
    session = await verified_signup(api, "clone@example.com")
    authenticator = SoftAuthenticator()
    await registered(api, session, authenticator)
    assert (await passkey_signin(api, authenticator, sign_count=5)).status_code == 200
    response = await passkey_signin(api, authenticator, sign_count=3)
    assert response.status_code == 401 and response.json() == INVALID
    event = await AuthEvent.objects.filter(type="passkey_clone_suspected").aget()
    assert event.detail["stored_count"] == 5 and event.detail["presented_count"] == 3
    assert (await Passkey.objects.aget()).sign_count == 5
    # A counter that stays at zero (many platform authenticators never count) is no clone.
    assert (await passkey_signin(api, authenticator, sign_count=6)).status_code == 200
    zero = SoftAuthenticator(counting=False)
    other = await verified_signup(api, "zero@example.com")
    await registered(api, other, zero)
    assert (await passkey_signin(api, zero)).status_code == 200
    assert (await passkey_signin(api, zero)).status_code == 200


async def test_a_removed_passkey_or_an_unknown_one_signs_nobody_in(api):
    session = await verified_signup(api, "removed@example.com")
    authenticator = SoftAuthenticator()
    passkey = await registered(api, session, authenticator)
    await api.delete(f"{AUTH}/passkeys/{passkey['id']}", headers=bearer(session))
    assert (await passkey_signin(api, authenticator)).status_code == 401
    unknown = SoftAuthenticator()
    unknown.create({"rp": {"id": "localhost"}, "user": {"id": "AAAA"}, "challenge": "AAAA"})
    assert (await passkey_signin(api, unknown)).status_code == 401


async def test_a_credential_answering_for_another_users_handle_is_refused(api):
    alice = await verified_signup(api, "handle-a@example.com")
    bob = await verified_signup(api, "handle-b@example.com")
    authenticator = SoftAuthenticator()
    await registered(api, alice, authenticator)
    other = SoftAuthenticator()
    await registered(api, bob, other)
    # Alice's key, claiming Bob's user handle.
    alice_credential = authenticator.credentials[authenticator.only_credential_id()]
    alice_credential.user_handle = other.credentials[other.only_credential_id()].user_handle
    assert (await passkey_signin(api, authenticator)).status_code == 401


async def test_a_deactivated_user_cannot_sign_in_with_a_passkey(api, users):
    session = await verified_signup(api, "inactive@example.com")
    authenticator = SoftAuthenticator()
    await registered(api, session, authenticator)
    user = await User.objects.aget(email="inactive@example.com")
    user.is_active = False
    await user.asave()
    assert (await passkey_signin(api, authenticator)).status_code == 401


@pytest.mark.parametrize(
    "credential",
    [
        {},
        {"rawId": "%%%"},
        {"rawId": "AAAA", "response": {"clientDataJSON": 3}},
        {"id": "x" * 5000},
    ],
)
async def test_malformed_assertions_are_401_never_500(api, credential):
    made = await signin_options(api)
    response = await api.post(
        f"{AUTH}/passkeys/signin",
        json={"challenge_token": made["challenge_token"], "credential": credential},
    )
    assert response.status_code == 401 and response.json() == INVALID


async def test_passkey_signin_and_its_options_are_throttled(api, settings):
    settings.RATE_LIMITS = True
    settings.RATE_LIMIT_PASSKEY_OPTIONS = Rate(2, 60)
    assert (await api.post(f"{AUTH}/passkeys/signin/options")).status_code == 200
    assert (await api.post(f"{AUTH}/passkeys/signin/options")).status_code == 200
    refused = await api.post(f"{AUTH}/passkeys/signin/options")
    assert refused.status_code == 429 and "retry-after" in refused.headers
