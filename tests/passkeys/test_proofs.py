"""A passkey as a proof for other journeys: the sign-in's second step (TOTP on) and
re-authentication; and what a passkey does not do (add a step to a password sign-in)."""

import pytest

from audit.models import AuthEvent
from mfa.models import MfaChallenge
from tests.accounts.helpers import age_sessions, bearer, signin, signup, verified_signup
from tests.mfa.helpers import MFA, totp_on
from tests.passkeys.helpers import AUTH, registered
from tests.support.authenticator import SoftAuthenticator

pytestmark = pytest.mark.django_db(transaction=True)


async def test_a_passkey_alone_adds_no_challenge_to_a_password_signin(api):
    session = await verified_signup(api, "nostep@example.com")
    await registered(api, session, SoftAuthenticator())
    body = await signin(api, "nostep@example.com")
    assert "access_token" in body and "mfa_required" not in body


async def mfa_challenge(api, email: str, clock) -> tuple[dict, SoftAuthenticator]:
    session = await verified_signup(api, email)
    authenticator = SoftAuthenticator()
    await registered(api, session, authenticator)
    await totp_on(api, session, clock)
    return await signin(api, email), authenticator


async def test_with_totp_on_the_second_step_offers_and_accepts_a_passkey(api, clock):
    challenge, authenticator = await mfa_challenge(api, "second@example.com", clock)
    assert challenge["methods"] == ["totp", "recovery_code", "webauthn"]
    options = await api.post(f"{MFA}/webauthn/options", json={"mfa_token": challenge["mfa_token"]})
    assert options.status_code == 200, options.text
    assert set(options.json()) == {"options"}
    allowed = options.json()["options"]["allowCredentials"]
    assert len(allowed) == 1
    credential = authenticator.get(options.json()["options"])
    verified = await api.post(
        f"{MFA}/verify", json={"mfa_token": challenge["mfa_token"], "credential": credential}
    )
    assert verified.status_code == 200, verified.text
    assert "access_token" in verified.json()
    event = await AuthEvent.objects.filter(type="signin").order_by("-at").afirst()
    assert event is not None
    assert event.detail == {"method": "passkey"}
    again = await api.post(
        f"{MFA}/verify", json={"mfa_token": challenge["mfa_token"], "credential": credential}
    )
    assert again.status_code == 401


async def test_the_second_step_refuses_another_users_passkey_and_counts_it(api, clock):
    challenge, _ = await mfa_challenge(api, "victim@example.com", clock)
    thief = await verified_signup(api, "thief@example.com")
    theirs = SoftAuthenticator()
    await registered(api, thief, theirs)
    options = await api.post(f"{MFA}/webauthn/options", json={"mfa_token": challenge["mfa_token"]})
    credential = theirs.get(options.json()["options"] | {"allowCredentials": []})
    refused = await api.post(
        f"{MFA}/verify", json={"mfa_token": challenge["mfa_token"], "credential": credential}
    )
    assert refused.status_code == 401 and refused.json() == {"detail": "Invalid passkey"}
    assert (await MfaChallenge.objects.aget()).failures == 1
    assert await AuthEvent.objects.filter(type="mfa_failed").aexists()


async def test_webauthn_options_need_a_live_mfa_token(api):
    response = await api.post(f"{MFA}/webauthn/options", json={"mfa_token": "nope"})
    assert response.status_code == 401


async def test_verify_takes_either_a_code_or_a_credential(api):
    both = {"mfa_token": "t", "code": "123456", "credential": {}}
    assert (await api.post(f"{MFA}/verify", json=both)).status_code == 422
    assert (await api.post(f"{MFA}/verify", json={"mfa_token": "t"})).status_code == 422


async def stale(api, email: str) -> tuple[dict, SoftAuthenticator]:
    session = await verified_signup(api, email)
    authenticator = SoftAuthenticator()
    await registered(api, session, authenticator)
    await age_sessions(email, 3600)
    return session, authenticator


async def test_reauthentication_with_a_passkey_makes_the_session_fresh(api):
    session, authenticator = await stale(api, "reauth@example.com")
    made = await api.post(f"{AUTH}/reauthenticate/options", headers=bearer(session))
    assert made.status_code == 200
    credential = authenticator.get(made.json()["options"])
    response = await api.post(
        f"{AUTH}/reauthenticate",
        json={"challenge_token": made.json()["challenge_token"], "credential": credential},
        headers=bearer(session),
    )
    assert response.status_code == 200, response.text
    event = await AuthEvent.objects.filter(type="reauthenticated").aget()
    assert event.detail == {"method": "passkey"}
    fresh = await api.post(f"{AUTH}/passkeys/register/options", headers=bearer(session))
    assert fresh.status_code == 200


async def test_reauthentication_refuses_a_sign_in_challenge_or_another_users_passkey(api):
    session, authenticator = await stale(api, "reauth-a@example.com")
    _, theirs = await stale(api, "reauth-b@example.com")
    signin_made = (await api.post(f"{AUTH}/passkeys/signin/options")).json()
    wrong_purpose = await api.post(
        f"{AUTH}/reauthenticate",
        json={
            "challenge_token": signin_made["challenge_token"],
            "credential": authenticator.get(signin_made["options"]),
        },
        headers=bearer(session),
    )
    assert wrong_purpose.status_code == 401
    assert wrong_purpose.json() == {"detail": "Invalid credentials"}
    made = (await api.post(f"{AUTH}/reauthenticate/options", headers=bearer(session))).json()
    foreign = await api.post(
        f"{AUTH}/reauthenticate",
        json={
            "challenge_token": made["challenge_token"],
            "credential": theirs.get(made["options"] | {"allowCredentials": []}),
        },
        headers=bearer(session),
    )
    assert foreign.status_code == 401
    assert not await AuthEvent.objects.filter(type="reauthenticated").aexists()


async def test_reauthenticate_needs_a_challenge_token_with_a_credential(api):
    session = await signup(api, "shape@example.com")
    response = await api.post(
        f"{AUTH}/reauthenticate", json={"credential": {}}, headers=bearer(session)
    )
    assert response.status_code == 422
