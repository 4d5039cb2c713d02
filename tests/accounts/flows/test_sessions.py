"""Sessions: refresh with rotation and reuse detection, sign-out, /me and the token validity
rules; a user's own sessions: listing, signing one out, signing out every other one."""

import asyncio
import uuid
from datetime import timedelta

import jwt
import pytest
from django.conf import settings
from django.utils import timezone

from accounts.models import AuthSession, RefreshToken, User
from accounts.tokens import access_token_encode
from tests.accounts.helpers import bearer, signin, signup
from tests.accounts.test_devices import CHROME_MAC, FIREFOX_WINDOWS

pytestmark = pytest.mark.django_db(transaction=True)
REFRESH = "/api/auth/refresh"
ME = "/api/auth/me"
SESSIONS = "/api/auth/sessions"


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


async def test_reusing_a_rotated_refresh_token_revokes_the_whole_session(api, settings):
    settings.REFRESH_REUSE_GRACE = 0
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
    # A rotation continues its token's chain (RefreshTokenChain).
    assert tokens[0].chain_id is not None and tokens[1].chain_id == tokens[0].chain_id


async def test_with_no_grace_concurrent_refreshes_of_one_token_let_exactly_one_succeed(
    api, settings
):
    settings.REFRESH_REUSE_GRACE = 0
    first = await signup(api, "concurrent@example.com")
    responses = await asyncio.gather(*(refresh(api, first["refresh_token"]) for _ in range(10)))
    assert [r.status_code for r in responses].count(200) == 1
    assert {r.status_code for r in responses} <= {200, 401}
    session = await AuthSession.objects.aget(user__email="concurrent@example.com")
    live = await RefreshToken.objects.filter(session=session, used_at__isnull=True).acount()
    assert session.revoked_at is not None or live == 1


async def test_two_tabs_refreshing_with_one_token_at_once_both_stay_signed_in(api):
    first = await signup(api, "two.tabs@example.com")
    tabs = await asyncio.gather(*(refresh(api, first["refresh_token"]) for _ in range(2)))
    assert [tab.status_code for tab in tabs] == [200, 200]
    answers = [tab.json() for tab in tabs]
    assert answers[0]["refresh_token"] != answers[1]["refresh_token"]
    for answer in answers:
        assert (await api.get(ME, headers=bearer(answer))).status_code == 200
        # Each answer's token works, once.
        assert (await refresh(api, answer["refresh_token"])).status_code == 200
    sessions = [s async for s in AuthSession.objects.filter(user__email="two.tabs@example.com")]
    assert len(sessions) == 1 and sessions[0].revoked_at is None
    tokens = [t async for t in RefreshToken.objects.filter(session=sessions[0]).order_by("id")]
    root = tokens[0]
    assert [t.parent_id for t in tokens[1:3]] == [root.pk, root.pk]
    # The first answer continues the root's chain; the grace answer starts one of its own.
    chains = {t.chain_id for t in tokens[1:3]}
    assert root.chain_id in chains and len(chains) == 2


async def test_ten_concurrent_refreshes_of_one_token_within_the_grace_all_answer(api):
    first = await signup(api, "ten.tabs@example.com")
    responses = await asyncio.gather(*(refresh(api, first["refresh_token"]) for _ in range(10)))
    assert [r.status_code for r in responses] == [200] * 10
    assert len({r.json()["refresh_token"] for r in responses}) == 10


async def test_a_used_token_presented_after_the_grace_is_reuse(api, settings):
    settings.REFRESH_REUSE_GRACE = 10
    first = await signup(api, "late.tab@example.com")
    second = (await refresh(api, first["refresh_token"])).json()
    used = await RefreshToken.objects.aget(used_at__isnull=False)
    used.used_at = timezone.now() - timedelta(seconds=11)
    await used.asave(update_fields=["used_at"])
    replay = await refresh(api, first["refresh_token"])
    assert replay.status_code == 401
    assert (await api.get(ME, headers=bearer(second))).status_code == 401
    session = await AuthSession.objects.aget(user__email="late.tab@example.com")
    assert session.revoked_reason == "refresh_reuse"


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
        chain_id=uuid.UUID(claims["chn"]),
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
        chain_id=uuid.UUID(bob_claims["chn"]),
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


async def signin_as(api, email: str, user_agent: str) -> dict:
    response = await api.post(
        "/api/auth/signin",
        json={"email": email, "password": "correct horse battery staple"},
        headers={"User-Agent": user_agent},
    )
    assert response.status_code == 200, response.text
    return response.json()


async def test_sessions_lists_live_sessions_newest_first_with_the_current_one_marked(api):
    first = await signup(api, "lister@example.com")
    second = await signin_as(api, "lister@example.com", FIREFOX_WINDOWS)
    third = await signin_as(api, "lister@example.com", CHROME_MAC)
    await api.post("/api/auth/signout", headers=bearer(first))
    response = await api.get(SESSIONS, headers=bearer(second))
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    listed = response.json()
    assert [item["device"] for item in listed] == ["Chrome on macOS", "Firefox on Windows"]
    assert [item["current"] for item in listed] == [False, True]
    assert set(listed[0]) == {
        "id",
        "created_at",
        "last_used_at",
        "ip",
        "user_agent",
        "device",
        "current",
    }
    assert listed[0]["ip"] == "127.0.0.1"
    assert listed[0]["user_agent"] == CHROME_MAC
    assert listed[0]["created_at"].endswith("Z")
    third_id = (await AuthSession.objects.alatest("created_at")).pk
    assert listed[0]["id"] == str(third_id)
    assert third["access_token"]


async def test_sessions_list_shows_nobody_elses_sessions(api):
    mine = await signup(api, "mine@example.com")
    await signup(api, "theirs@example.com")
    listed = (await api.get(SESSIONS, headers=bearer(mine))).json()
    assert len(listed) == 1 and listed[0]["current"] is True


async def test_deleting_a_session_signs_that_device_out_on_its_next_request(api):
    laptop = await signup(api, "twodevices@example.com")
    phone = await signin(api, "twodevices@example.com")
    listed = (await api.get(SESSIONS, headers=bearer(laptop))).json()
    phone_id = next(item["id"] for item in listed if not item["current"])
    response = await api.delete(f"{SESSIONS}/{phone_id}", headers=bearer(laptop))
    assert response.status_code == 204
    assert response.content == b""
    assert (await api.get(ME, headers=bearer(phone))).status_code == 401
    refresh = await api.post("/api/auth/refresh", json={"refresh_token": phone["refresh_token"]})
    assert refresh.status_code == 401
    assert (await api.get(ME, headers=bearer(laptop))).status_code == 200


async def test_another_users_session_id_is_404_like_an_unknown_or_revoked_one(api):
    mine = await signup(api, "owner@example.com")
    theirs = await signup(api, "victim@example.com")
    their_id = (await AuthSession.objects.aget(user__email="victim@example.com")).pk
    revoked = await signin(api, "owner@example.com")
    revoked_id = (
        await AuthSession.objects.filter(user__email="owner@example.com").alatest("created_at")
    ).pk
    await api.post("/api/auth/signout", headers=bearer(revoked))
    answers = [
        await api.delete(f"{SESSIONS}/{their_id}", headers=bearer(mine)),
        await api.delete(f"{SESSIONS}/{uuid.uuid4()}", headers=bearer(mine)),
        await api.delete(f"{SESSIONS}/{revoked_id}", headers=bearer(mine)),
    ]
    for answer in answers:
        assert answer.status_code == 404
        assert answer.json() == {"detail": "Session not found"}
    assert {answer.content for answer in answers} == {answers[0].content}
    assert (await api.get(ME, headers=bearer(theirs))).status_code == 200


async def test_deleting_a_session_that_is_not_a_uuid_is_404(api):
    mine = await signup(api, "notuuid@example.com")
    response = await api.delete(f"{SESSIONS}/not-a-uuid", headers=bearer(mine))
    assert response.status_code == 404
    assert response.json() == {"detail": "Session not found"}
    assert response.headers["cache-control"] == "no-store"  # as the document declares


async def test_sessions_routes_need_a_token(api):
    assert (await api.get(SESSIONS)).status_code == 401
    assert (await api.post(f"{SESSIONS}/revoke-others")).status_code == 401
    assert (await api.delete(f"{SESSIONS}/{uuid.uuid4()}")).status_code == 401


async def test_revoke_others_keeps_only_the_calling_session(api):
    keeper = await signup(api, "keeper@example.com")
    others = [await signin(api, "keeper@example.com") for _ in range(3)]
    bystander = await signup(api, "bystander@example.com")
    response = await api.post(f"{SESSIONS}/revoke-others", headers=bearer(keeper))
    assert response.status_code == 200
    assert response.json() == {"revoked": 3}
    for other in others:
        assert (await api.get(ME, headers=bearer(other))).status_code == 401
    assert (await api.get(ME, headers=bearer(keeper))).status_code == 200
    assert (await api.get(ME, headers=bearer(bystander))).status_code == 200
    again = await api.post(f"{SESSIONS}/revoke-others", headers=bearer(keeper))
    assert again.json() == {"revoked": 0}
