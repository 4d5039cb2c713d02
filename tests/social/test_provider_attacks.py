"""Attacks on sign-in with another provider: forged, stolen and replayed tokens, states and codes,
mixed-up issuers, and a provider that is down. Tokens are minted with the provider's own key."""

import base64
import hashlib
import hmac
import json
import time
from urllib.parse import urlsplit

import pytest
from django.test import override_settings
from joserfc import jwt
from joserfc.jwk import RSAKey

from accounts.models import User
from audit.models import AuthEvent
from social.models import Identity
from tests.accounts.helpers import bearer, confirm_reset, signup, verified_signup
from tests.social.conftest import acme
from tests.social.helpers import (
    AUTH,
    BINDING_COOKIE,
    authorize,
    callback,
    cookies_set,
    exchange,
    provider_code,
    provider_signin,
    signed_in,
)
from tests.support.markers import LIVE
from tests.support.oidc_provider import NATIVE_CLIENT_ID, provider_login
from tests.support.pgcluster import free_port

pytestmark = [*LIVE, pytest.mark.attack]
REFUSED = {"detail": "Invalid ID token"}
WRONG_CODE = {"detail": "Invalid or expired code"}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims(**changes: object) -> dict:
    return {"sub": "attacked", "email": "attacked@example.com", "email_verified": True, **changes}


async def native(api, token: str, nonce: str | None = None):
    body = {"id_token": token} if nonce is None else {"id_token": token, "nonce": nonce}
    return await api.post(f"{AUTH}/providers/acme/token", json=body)


async def assert_refused(api, token: str, nonce: str | None = None) -> None:
    response = await native(api, token, nonce)
    assert response.status_code == 401, response.text
    assert response.json() == REFUSED


async def test_a_token_signed_by_another_key_under_the_providers_kid_is_refused(api, providers):
    forger = RSAKey.generate_key(2048, parameters={"kid": providers.key.kid})
    now = int(time.time())
    payload = {"iss": providers.issuer, "aud": "accounts-web", "iat": now, "exp": now + 300}
    token = jwt.encode({"alg": "RS256", "kid": forger.kid}, {**payload, **claims()}, forger)
    await assert_refused(api, token)


async def test_alg_none_is_refused(api, providers):
    valid = providers.mint(claims())
    _, payload, _ = valid.split(".")
    header = b64(json.dumps({"alg": "none", "kid": providers.key.kid}).encode())
    await assert_refused(api, f"{header}.{payload}.")


async def test_hmac_signed_with_the_providers_public_key_is_refused(api, providers):
    public_pem = providers.key.as_pem(private=False)
    valid = providers.mint(claims())
    _, payload, _ = valid.split(".")
    header = b64(json.dumps({"alg": "HS256", "kid": providers.key.kid}).encode())
    signature = hmac.new(public_pem, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    await assert_refused(api, f"{header}.{payload}.{b64(signature)}")


@pytest.mark.parametrize(
    "changes",
    [
        {"aud": "someone-else"},
        {"aud": ["accounts-web", "someone-else"]},  # several audiences and no azp
        {"aud": "accounts-web", "azp": "someone-else"},
        {"iss": "http://127.0.0.1:1"},
        {"exp": int(time.time()) - 600},
        {"iat": int(time.time()) + 3600},
        {"sub": None},
    ],
    ids=["aud", "aud-list-without-azp", "azp", "iss", "expired", "iat-in-future", "no-sub"],
)
async def test_tokens_with_wrong_claims_are_refused(api, providers, changes):
    await assert_refused(api, providers.mint(claims(**changes)))


async def test_a_token_replayed_is_refused(api, providers):
    token = providers.mint(claims(sub="replayed", email="replayed@example.com"))
    assert (await native(api, token)).status_code == 200
    await assert_refused(api, token)


async def test_a_nonce_replayed_in_another_token_is_refused(api, providers):
    first = providers.mint(claims(sub="nonce-1", email="nonce1@example.com", nonce="same"))
    assert (await native(api, first, "same")).status_code == 200
    second = providers.mint(claims(sub="nonce-2", email="nonce2@example.com", nonce="same"))
    await assert_refused(api, second, "same")


async def test_a_nonce_other_than_the_apps_is_refused(api, providers):
    await assert_refused(api, providers.mint(claims(nonce="theirs")), "mine")


async def test_a_token_for_the_native_client_id_is_refused_by_the_browser_flows_client_only(
    api, providers
):
    # The native client id is an audience for native apps, never another party's azp.
    token = providers.mint(claims(aud=[NATIVE_CLIENT_ID, "intruder"], azp="intruder"))
    await assert_refused(api, token)


async def test_a_callback_replayed_is_invalid_state(api, providers):
    started = await authorize(api)
    back = await provider_login(started.authorization_url, "replay-state@example.com")
    assert "code" in await callback(api, back, started.binding)
    assert await callback(api, back, started.binding) == {"error": "invalid_state"}


async def test_a_callback_in_another_browser_is_invalid_state(api, providers):
    started = await authorize(api)
    back = await provider_login(started.authorization_url, "other-browser@example.com")
    assert await callback(api, back, None) == {"error": "invalid_state"}
    # ... and the flow is spent: its own browser cannot finish it afterwards either.
    assert await callback(api, back, started.binding) == {"error": "invalid_state"}


async def test_a_binding_cookie_of_another_flow_is_invalid_state(api, providers):
    victim = await authorize(api)
    attacker = await authorize(api)
    back = await provider_login(victim.authorization_url, "binding@example.com")
    assert await callback(api, back, attacker.binding) == {"error": "invalid_state"}


async def test_a_code_from_another_flow_is_refused_by_the_provider(api, providers):
    first = await authorize(api)
    first_back = await provider_login(first.authorization_url, "code-reuse@example.com")
    assert "code" in await callback(api, first_back, first.binding)
    # The used code, with a new flow's state (and so another PKCE verifier).
    second = await authorize(api)
    second_back = await provider_login(second.authorization_url, "code-reuse@example.com")
    used_code = dict(p.split("=", 1) for p in urlsplit(first_back).query.split("&"))["code"]
    split = urlsplit(second_back)
    query = "&".join(
        f"code={used_code}" if p.startswith("code=") else p for p in split.query.split("&")
    )
    mixed = f"{split.scheme}://{split.netloc}{split.path}?{query}"
    assert await callback(api, mixed, second.binding) == {"error": "invalid_grant"}


async def assert_code_refused(api, code: str, binding: str | None) -> None:
    """The exchange refuses as it refuses a wrong code, and clears the cookie sent."""
    response = await exchange(api, code, binding)
    assert response.status_code == 400, response.text
    assert response.json() == WRONG_CODE
    if binding is not None:
        assert "Max-Age=0" in cookies_set(response)[BINDING_COOKIE]


async def test_an_exchange_code_without_the_binding_cookie_is_refused_and_spent(api, providers):
    handed = await provider_code(api, "no-cookie@example.com")
    await assert_code_refused(api, handed.code, None)
    # Spent by the refused attempt: its own browser cannot trade it afterwards either.
    await assert_code_refused(api, handed.code, handed.binding)


async def test_an_exchange_code_with_another_flows_binding_cookie_is_refused_and_spent(
    api, providers
):
    handed = await provider_code(api, "other-flow@example.com")
    other = await authorize(api)
    await assert_code_refused(api, handed.code, other.binding)
    await assert_code_refused(api, handed.code, handed.binding)


async def test_an_attackers_code_in_the_victims_browser_signs_nobody_in(api, providers):
    """Login CSRF: the attacker finishes a flow with their own provider account and sends the
    victim's browser to the frontend's page with the code. The victim's browser has a binding
    cookie of its own (a flow it started), not the attacker's."""
    attacker = await provider_code(api, "attacker@example.com")
    victim = await provider_code(api, "victim-browser@example.com")
    await assert_code_refused(api, attacker.code, victim.binding)
    attacker_user = await User.objects.aget(email="attacker@example.com")
    assert not await AuthEvent.objects.filter(user_id=attacker_user.pk, type="signin").aexists()
    # The attacker's code is spent; the victim's own, in its own browser, still signs it in.
    await assert_code_refused(api, attacker.code, attacker.binding)
    own = await exchange(api, victim.code, victim.binding)
    assert own.status_code == 200, own.text
    assert own.json()["user"]["email"] == "victim-browser@example.com"


async def test_another_issuer_in_the_callback_is_a_mix_up(api, providers):
    started = await authorize(api)
    back = await provider_login(started.authorization_url, "mixup@example.com")
    tampered = back.replace("iss=", "iss=https%3A%2F%2Fevil.example&was=")
    assert await callback(api, tampered, started.binding) == {"error": "invalid_issuer"}


async def test_a_denied_consent_comes_back_as_access_denied(api, providers):
    started = await authorize(api)
    state = dict(p.split("=", 1) for p in urlsplit(started.authorization_url).query.split("&"))[
        "state"
    ]
    url = f"http://localhost{AUTH}/providers/acme/callback?error=access_denied&state={state}"
    assert await callback(api, url, started.binding) == {"error": "access_denied"}


@pytest.mark.parametrize(
    "path",
    [
        "/providers/acme/callback",
        "/providers/acme/callback?code=x&state=unknown",
        "/providers/nobody/callback?code=x&state=y",
        "/providers/acme/callback?code=%00&state=%ff%fe",
    ],
)
async def test_a_callback_always_redirects_with_a_reason(api, providers, path):
    response = await api.get(f"{AUTH}{path}")
    assert response.status_code == 302
    assert "error=" in response.headers["location"]


async def test_the_provider_down_is_a_clear_error_never_a_500(api, providers):
    dead = f"http://127.0.0.1:{free_port()}"
    started = await authorize(api)
    back = await provider_login(started.authorization_url, "down@example.com")
    with override_settings(SOCIAL_PROVIDERS=(acme(dead),)):
        refused = await api.post(f"{AUTH}/providers/acme/authorize", json={"process": "signin"})
        assert refused.status_code == 503
        assert refused.json() == {"detail": "The provider is not reachable, retry later"}
        assert (await native(api, providers.mint(claims()))).status_code == 503
        # Without the live provider's `iss` (the configured issuer is now the dead one's).
        query = await callback(api, back.split("&iss=")[0], started.binding)
    assert query == {"error": "provider_unavailable"}


async def test_an_unknown_provider_is_404_for_the_api_routes(api, providers):
    response = await api.post(f"{AUTH}/providers/nobody/authorize", json={"process": "signin"})
    assert response.status_code == 404
    assert (await native(api, "x.y.z")).status_code == 401
    assert (
        await api.post(f"{AUTH}/providers/nobody/token", json={"id_token": "x"})
    ).status_code == 404


async def test_a_denied_provider_signin_leaves_no_account(api, providers):
    query = await provider_signin(api, "noemail:ghost")
    assert query == {"error": "email_missing"}


async def test_an_unverified_account_cannot_link_an_identity(api, providers):
    """Someone who signed up with another person's address must not link their own provider
    account to it before the address's owner proves the mailbox."""
    session = await signup(api, "squatter@example.com")
    response = await api.post(
        f"{AUTH}/providers/acme/authorize", json={"process": "link"}, headers=bearer(session)
    )
    assert response.status_code == 403
    assert response.json() == {"detail": "Verify your email address first"}
    assert BINDING_COOKIE not in cookies_set(response)


async def test_a_link_flow_whose_user_is_unverified_at_the_callback_links_nothing(api, providers):
    session = await verified_signup(api, "flipped@example.com")
    started = await authorize(api, "link", bearer(session))
    # Staff marked the address unverified while the browser was at the provider.
    await User.objects.filter(email="flipped@example.com").aupdate(email_verified=False)
    back = await provider_login(started.authorization_url, "elsewhere@example.com")
    assert await callback(api, back, started.binding) == {"error": "email_unverified"}
    assert not await Identity.objects.aexists()


async def test_an_identity_whose_provider_did_not_verify_the_address_loses_it_to_the_reset(
    api, providers
):
    """A provider that does not verify email made an account for someone else's address; the
    address's owner resets the password, and the provider identity signs nobody in any more."""
    attacker = await signed_in(api, "unverified:victim@example.com")
    assert attacker["user"]["email_verified"] is False
    await api.post(f"{AUTH}/password/reset", json={"email": "victim@example.com"})
    confirmed = await confirm_reset(api, "victim@example.com", "the owner's new passphrase")
    assert confirmed.status_code == 200, confirmed.text
    assert not await Identity.objects.aexists()
    query = await provider_signin(api, "unverified:victim@example.com")
    assert query == {"error": "account_exists"}
