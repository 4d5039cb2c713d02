"""POST /api/auth/password: a new session, every old one revoked."""

import pytest

from accounts.models import User
from tests.accounts.helpers import bearer, signin, signup
from tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "/api/auth/password"
NEW_PASSWORD = "a much better passphrase"


async def test_password_change_replaces_every_session(api):
    first = await signup(api, "changer@example.com")
    second = await signin(api, "changer@example.com")
    response = await api.post(
        PASSWORD,
        json={"current_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD},
        headers=bearer(first),
    )
    assert response.status_code == 200
    fresh = response.json()
    assert (await api.get("/api/auth/me", headers=bearer(fresh))).status_code == 200
    for old in (first, second):
        assert (await api.get("/api/auth/me", headers=bearer(old))).status_code == 401
        refreshed = await api.post(
            "/api/auth/refresh", json={"refresh_token": old["refresh_token"]}
        )
        assert refreshed.status_code == 401
    await signin(api, "changer@example.com", NEW_PASSWORD)
    old_password = await api.post(
        "/api/auth/signin", json={"email": "changer@example.com", "password": DEFAULT_PASSWORD}
    )
    assert old_password.status_code == 401


async def test_password_change_with_a_wrong_current_password_is_400(api):
    session = await signup(api, "wrong.current@example.com")
    response = await api.post(
        PASSWORD,
        json={"current_password": "not my password", "new_password": NEW_PASSWORD},
        headers=bearer(session),
    )
    assert response.status_code == 400
    assert response.json() == {"detail": "Current password is incorrect"}
    assert (await api.get("/api/auth/me", headers=bearer(session))).status_code == 200


async def test_password_change_to_a_weak_password_is_422(api):
    session = await signup(api, "weak.new@example.com")
    response = await api.post(
        PASSWORD,
        json={"current_password": DEFAULT_PASSWORD, "new_password": "password"},
        headers=bearer(session),
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "new_password"]
    user = await User.objects.aget(email="weak.new@example.com")
    assert await user.acheck_password(DEFAULT_PASSWORD)


async def test_password_change_needs_a_token(api):
    response = await api.post(
        PASSWORD, json={"current_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD}
    )
    assert response.status_code == 401
