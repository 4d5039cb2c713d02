"""A user's own sessions: listing, signing one out, signing out every other one."""

import uuid

import pytest

from accounts.models import AuthSession
from tests.accounts.helpers import bearer, signin, signup
from tests.accounts.test_devices import CHROME_MAC, FIREFOX_WINDOWS

pytestmark = pytest.mark.django_db(transaction=True)
SESSIONS = "/api/auth/sessions"
ME = "/api/auth/me"


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
