"""Refresh with rotation and reuse detection, sign-out, /me, and token validity rules."""

import asyncio
import uuid
from datetime import timedelta

import jwt
import pytest
from django.conf import settings
from django.utils import timezone

from accounts.models import AuthSession, RefreshToken, User
from accounts.tokens import access_token_encode
from tests.accounts.helpers import bearer, signup

pytestmark = pytest.mark.django_db(transaction=True)
REFRESH = "/api/auth/refresh"
ME = "/api/auth/me"


async def refresh(api, token: str):
    return await api.post(REFRESH, json={"refresh_token": token})


async def test_refresh_rotates_the_refresh_token(api):
    first = await signup(api, "rotate@example.com")
    response = await refresh(api, first["refresh_token"])
    assert response.status_code == 200
    second = response.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["user"] == first["user"]
    assert (await api.get(ME, headers=bearer(second))).status_code == 200
    again = await refresh(api, second["refresh_token"])
    assert again.status_code == 200


async def test_reusing_a_rotated_refresh_token_revokes_the_whole_session(api):
    first = await signup(api, "stolen@example.com")
    second = (await refresh(api, first["refresh_token"])).json()
    replay = await refresh(api, first["refresh_token"])
    assert replay.status_code == 401
    assert replay.json() == {"detail": "Invalid or expired refresh token"}
    # The thief's replay also kills the legitimate holder's newer tokens.
    assert (await refresh(api, second["refresh_token"])).status_code == 401
    assert (await api.get(ME, headers=bearer(second))).status_code == 401
    session = await AuthSession.objects.aget(user__email="stolen@example.com")
    assert session.revoked_reason == "refresh_reuse"


async def test_rotation_lineage_links_each_token_to_its_parent(api):
    first = await signup(api, "lineage@example.com")
    await refresh(api, first["refresh_token"])
    tokens = [t async for t in RefreshToken.objects.order_by("id")]
    assert len(tokens) == 2
    assert tokens[1].parent_id == tokens[0].pk
    assert tokens[0].used_at is not None and tokens[1].used_at is None


async def test_concurrent_refreshes_of_one_token_let_exactly_one_succeed(api):
    first = await signup(api, "concurrent@example.com")
    responses = await asyncio.gather(*(refresh(api, first["refresh_token"]) for _ in range(10)))
    assert [r.status_code for r in responses].count(200) == 1
    assert {r.status_code for r in responses} <= {200, 401}
    session = await AuthSession.objects.aget(user__email="concurrent@example.com")
    live = await RefreshToken.objects.filter(session=session, used_at__isnull=True).acount()
    assert session.revoked_at is not None or live == 1


@pytest.mark.parametrize(
    ("token", "status"), [("", 422), ("x" * 300, 422), ("x" * 256, 401), ("not-a-real-token", 401)]
)
async def test_refresh_with_an_unknown_or_malformed_token_is_rejected(api, token, status):
    response = await refresh(api, token)
    assert response.status_code == status
    if status == 422:
        assert response.json()["detail"][0]["loc"] == ["body", "refresh_token"]
    else:
        assert response.json() == {"detail": "Invalid or expired refresh token"}


async def test_expired_refresh_token_is_401(api):
    first = await signup(api, "old@example.com")
    await RefreshToken.objects.aupdate(expires_at=timezone.now() - timedelta(seconds=1))
    assert (await refresh(api, first["refresh_token"])).status_code == 401


async def test_signout_revokes_access_and_refresh_tokens_on_the_next_request(api):
    session = await signup(api, "leaving@example.com")
    response = await api.post("/api/auth/signout", headers=bearer(session))
    assert response.status_code == 200
    assert response.json() == {"message": "Successfully signed out"}
    me = await api.get(ME, headers=bearer(session))
    assert me.status_code == 401
    assert me.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    assert (await refresh(api, session["refresh_token"])).status_code == 401
    assert (await api.post("/api/auth/signout", headers=bearer(session))).status_code == 401


async def test_signout_leaves_other_sessions_alone(api):
    one = await signup(api, "two.devices@example.com")
    other = (
        await api.post(
            "/api/auth/signin",
            json={"email": "two.devices@example.com", "password": "correct horse battery staple"},
        )
    ).json()
    await api.post("/api/auth/signout", headers=bearer(one))
    assert (await api.get(ME, headers=bearer(other))).status_code == 200


async def test_me_answers_the_user(api):
    session = await signup(api, "me@example.com")
    response = await api.get(ME, headers=bearer(session))
    assert response.status_code == 200
    assert response.json() == session["user"]


INVALID_TOKEN = 'Bearer error="invalid_token"'


@pytest.mark.parametrize(
    ("header", "challenge"),
    [
        (None, "Bearer"),
        ("", "Bearer"),
        ("Bearer", "Bearer"),
        ("Bearer ", "Bearer"),
        ("Basic dXNlcjpwYXNz", "Bearer"),
        ("Token abc", "Bearer"),
        ("Bearer not.a.jwt", INVALID_TOKEN),  # a token came, and was refused (RFC 6750)
    ],
)
async def test_me_without_a_usable_token_is_401_json(api, header, challenge):
    headers = {"Authorization": header} if header is not None else {}
    response = await api.get(ME, headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == challenge
    assert set(response.json()) == {"detail"}


async def test_token_of_a_deactivated_user_is_refused(api):
    session = await signup(api, "deactivated@example.com")
    await User.objects.filter(email="deactivated@example.com").aupdate(is_active=False)
    assert (await api.get(ME, headers=bearer(session))).status_code == 401
    assert (await refresh(api, session["refresh_token"])).status_code == 401


async def test_expired_access_token_is_refused(api):
    session = await signup(api, "expired@example.com")
    claims = jwt.decode(session["access_token"], options={"verify_signature": False})
    token = access_token_encode(
        user_id=uuid.UUID(claims["sub"]),
        session_id=uuid.UUID(claims["sid"]),
        now=timezone.now() - timedelta(seconds=settings.ACCESS_TOKEN_TTL + 5),
    )
    assert (await api.get(ME, headers={"Authorization": f"Bearer {token}"})).status_code == 401


async def test_forged_and_alg_none_tokens_are_refused(api):
    session = await signup(api, "forged@example.com")
    claims = jwt.decode(session["access_token"], options={"verify_signature": False})
    forged = jwt.encode(claims, "some-other-secret-that-is-long-enough!!", algorithm="HS256")
    unsigned = jwt.encode(claims, "", algorithm="none")
    for token in (forged, unsigned):
        response = await api.get(ME, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401


async def test_a_token_naming_another_users_session_is_refused(api):
    alice = await signup(api, "alice@example.com")
    bob = await signup(api, "bob@example.com")
    alice_claims = jwt.decode(alice["access_token"], options={"verify_signature": False})
    bob_claims = jwt.decode(bob["access_token"], options={"verify_signature": False})
    mixed = access_token_encode(
        user_id=uuid.UUID(alice_claims["sub"]),
        session_id=uuid.UUID(bob_claims["sid"]),
        now=timezone.now(),
    )
    assert (await api.get(ME, headers={"Authorization": f"Bearer {mixed}"})).status_code == 401


async def test_signing_keys_rotate_through_jwt_secret_fallbacks(api, settings):
    old_secret = settings.JWT_SECRET
    session = await signup(api, "rotation@example.com")
    settings.JWT_SECRET = "a-brand-new-jwt-secret-of-at-least-32-bytes"
    settings.JWT_SECRET_FALLBACKS = [old_secret]
    assert (await api.get(ME, headers=bearer(session))).status_code == 200
    settings.JWT_SECRET_FALLBACKS = []
    assert (await api.get(ME, headers=bearer(session))).status_code == 401
