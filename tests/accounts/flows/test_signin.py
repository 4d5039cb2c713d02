"""POST /api/auth/signin: sessions for the right password, one answer for every wrong one."""

import statistics
import time

import pytest

from accounts.models import AuthSession
from tests.accounts.helpers import bearer, signin

pytestmark = pytest.mark.django_db(transaction=True)
SIGNIN = "/api/auth/signin"
INVALID = {"detail": "Invalid email or password"}


async def test_signin_answers_a_new_session(api, users, password):
    user = await users.create(email="sign.in@example.com")
    body = await signin(api, "Sign.In@Example.com", password)
    assert body["user"]["id"] == str(user.pk)
    assert body["token_type"] == "bearer"
    me = await api.get("/api/auth/me", headers=bearer(body))
    assert me.json()["email"] == "sign.in@example.com"
    assert await AuthSession.objects.filter(user=user).acount() == 1


async def test_signin_with_wrong_password_and_unknown_email_answer_the_same(api, users):
    await users.create(email="known@example.com")
    wrong = await api.post(SIGNIN, json={"email": "known@example.com", "password": "nope-nope"})
    unknown = await api.post(SIGNIN, json={"email": "ghost@example.com", "password": "nope-nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json() == INVALID
    assert wrong.headers.get("content-type") == unknown.headers.get("content-type")


async def test_signin_of_an_inactive_user_is_the_same_401(api, users, password):
    await users.create(email="inactive@example.com", is_active=False)
    response = await api.post(SIGNIN, json={"email": "inactive@example.com", "password": password})
    assert response.status_code == 401
    assert response.json() == INVALID


async def test_signin_unknown_email_and_wrong_password_take_similar_time(api, users, settings):
    # The real hasher: this test is about hashing time. Loose bounds only (TESTING.md).
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
    from accounts.hashing import dummy_password_hash

    dummy_password_hash.cache_clear()
    await users.create(email="timed@example.com")

    async def timed(email: str) -> float:
        started = time.perf_counter()
        response = await api.post(SIGNIN, json={"email": email, "password": "wrong-password"})
        assert response.status_code == 401
        return time.perf_counter() - started

    await timed("warmup@example.com")
    known = statistics.median([await timed("timed@example.com") for _ in range(5)])
    unknown = statistics.median([await timed("nobody@example.com") for _ in range(5)])
    dummy_password_hash.cache_clear()
    assert 0.5 < known / unknown < 2.0, (known, unknown)


@pytest.mark.parametrize(
    "body",
    [{}, {"email": "a@example.com"}, {"password": "x"}, {"email": "a@example.com", "password": ""}],
)
async def test_signin_with_missing_fields_is_422(api, body):
    response = await api.post(SIGNIN, json=body)
    assert response.status_code == 422
