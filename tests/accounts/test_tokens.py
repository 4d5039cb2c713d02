"""Access tokens name their refresh-token chain (`chn`), whose freshness they have; a token
issued before chains existed still authenticates, is never fresh, and cannot re-authenticate
(the client refreshes first, as for an expired token, and the new one names a chain)."""

import time
import uuid

import jwt
import pytest
from django.conf import settings
from django.utils import timezone

from accounts.models import RefreshToken, RefreshTokenChain
from accounts.tokens import InvalidAccessToken, access_token_decode, access_token_encode
from audit.models import AuthEvent
from tests.accounts.helpers import signup
from tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)
EXPORT = "/api/auth/me/export"
REAUTHENTICATE = "/api/auth/reauthenticate"


def claims_of(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def without_chain(token: str) -> str:
    """The same access token as the release before chains issued it."""
    claims = {key: value for key, value in claims_of(token).items() if key != "chn"}
    return jwt.encode(claims, settings.JWT_SECRET, algorithm="HS256")


def test_the_chain_claim_round_trips():
    user_id, session_id, chain_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    token = access_token_encode(
        user_id=user_id, session_id=session_id, chain_id=chain_id, now=timezone.now()
    )
    claims = access_token_decode(token)
    assert (claims.user_id, claims.session_id, claims.chain_id) == (user_id, session_id, chain_id)
    assert access_token_decode(without_chain(token)).chain_id is None


@pytest.mark.parametrize("chain", ["not-a-uuid", 12, None])
def test_a_malformed_chain_claim_is_refused(chain):
    token = access_token_encode(
        user_id=uuid.uuid4(), session_id=uuid.uuid4(), chain_id=uuid.uuid4(), now=timezone.now()
    )
    forged = jwt.encode({**claims_of(token), "chn": chain}, settings.JWT_SECRET, algorithm="HS256")
    with pytest.raises(InvalidAccessToken):
        access_token_decode(forged)


async def test_a_sign_ins_access_token_names_the_chain_of_its_refresh_token(api):
    session = await signup(api, "chain.claim@example.com")
    chain = await RefreshTokenChain.objects.aget(session__user__email="chain.claim@example.com")
    assert claims_of(session["access_token"])["chn"] == str(chain.pk)
    assert (await RefreshToken.objects.aget()).chain_id == chain.pk
    assert chain.proved_at is not None


async def test_a_token_without_a_chain_authenticates_but_is_never_fresh(api):
    session = await signup(api, "no.chain@example.com")
    old = {"Authorization": f"Bearer {without_chain(session['access_token'])}"}
    assert (await api.get("/api/auth/me", headers=old)).status_code == 200
    refused = await api.get(EXPORT, headers=old)
    assert refused.status_code == 401
    assert refused.json() == {"detail": "Re-authentication required"}
    # Re-authenticating could make no chain fresh: refused as an expired token is, before the
    # password is looked at (no failure counted, no event).
    again = await api.post(REAUTHENTICATE, json={"password": DEFAULT_PASSWORD}, headers=old)
    assert again.status_code == 401
    assert again.json() == {"detail": "Invalid or expired token"}
    assert again.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    assert not await AuthEvent.objects.filter(
        type__in=["reauthenticated", "signin_failed"]
    ).aexists()


async def test_a_refresh_token_without_a_chain_rotates_onto_a_new_chain_not_fresh(api):
    session = await signup(api, "old.refresh@example.com")
    await RefreshToken.objects.aupdate(chain=None)
    response = await api.post("/api/auth/refresh", json={"refresh_token": session["refresh_token"]})
    assert response.status_code == 200
    rotated = response.json()
    new_token = await RefreshToken.objects.aget(used_at__isnull=True)
    assert new_token.chain_id is not None
    assert claims_of(rotated["access_token"])["chn"] == str(new_token.chain_id)
    fresh_route = {"Authorization": f"Bearer {rotated['access_token']}"}
    assert (await api.get(EXPORT, headers=fresh_route)).status_code == 401
    again = await api.post(REAUTHENTICATE, json={"password": DEFAULT_PASSWORD}, headers=fresh_route)
    assert again.status_code == 200
    assert (await api.get(EXPORT, headers=fresh_route)).status_code == 200


def test_a_remembered_token_still_expires(monkeypatch):
    now = timezone.now()
    token = access_token_encode(
        user_id=uuid.uuid4(), session_id=uuid.uuid4(), chain_id=uuid.uuid4(), now=now
    )
    access_token_decode(token)  # verified and remembered
    expiry = now.timestamp() + settings.ACCESS_TOKEN_TTL
    monkeypatch.setattr(time, "time", lambda: expiry - 1)
    assert access_token_decode(token).user_id
    monkeypatch.setattr(time, "time", lambda: expiry)
    with pytest.raises(InvalidAccessToken, match="ExpiredSignatureError"):
        access_token_decode(token)


def test_a_remembered_token_is_verified_again_when_the_keys_change(settings):
    token = access_token_encode(
        user_id=uuid.uuid4(), session_id=uuid.uuid4(), chain_id=uuid.uuid4(), now=timezone.now()
    )
    access_token_decode(token)
    old_secret = settings.JWT_SECRET
    settings.JWT_SECRET = "a-new-secret-" + "x" * 40
    settings.JWT_SECRET_FALLBACKS = [old_secret]
    assert access_token_decode(token).user_id  # the retired key still verifies it
    settings.JWT_SECRET_FALLBACKS = []
    with pytest.raises(InvalidAccessToken, match="bad signature"):
        access_token_decode(token)  # the retired key is gone: so is the token


def test_a_remembered_token_is_verified_again_for_another_audience(settings):
    token = access_token_encode(
        user_id=uuid.uuid4(), session_id=uuid.uuid4(), chain_id=uuid.uuid4(), now=timezone.now()
    )
    access_token_decode(token)
    settings.JWT_AUDIENCE = "another-api"
    with pytest.raises(InvalidAccessToken, match="InvalidAudienceError"):
        access_token_decode(token)


def test_pyjwt_verifies_a_token_once_and_never_remembers_a_refusal(monkeypatch):
    calls = []
    real_decode = jwt.decode

    def counted(*args, **kwargs):
        calls.append(args[0])
        return real_decode(*args, **kwargs)

    monkeypatch.setattr(jwt, "decode", counted)
    token = access_token_encode(
        user_id=uuid.uuid4(), session_id=uuid.uuid4(), chain_id=uuid.uuid4(), now=timezone.now()
    )
    for _ in range(3):
        access_token_decode(token)
    assert calls == [token]
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    for _ in range(2):
        with pytest.raises(InvalidAccessToken):
            access_token_decode(forged)
    assert calls.count(token) == 1
    assert calls.count(forged) >= 2  # each refusal was PyJWT's own, again
