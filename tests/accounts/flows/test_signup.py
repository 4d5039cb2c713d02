"""POST /api/auth/signup through the real ASGI app and database."""

import asyncio
import uuid
from datetime import datetime

import jwt
import pytest
from django.conf import settings

from accounts.models import AuthSession, RefreshToken, User
from toolkit.tokens import token_digest

pytestmark = pytest.mark.django_db(transaction=True)
SIGNUP = "/api/auth/signup"


async def test_signup_answers_201_with_the_session_shape(api, password):
    response = await api.post(SIGNUP, json={"email": "New.User@Example.COM", "password": password})
    assert response.status_code == 201
    body = response.json()
    assert list(body) == ["user", "access_token", "refresh_token", "token_type", "expires_in"]
    assert list(body["user"]) == ["id", "email", "email_verified", "created_at"]
    assert body["user"]["email"] == "new.user@example.com"
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == settings.ACCESS_TOKEN_TTL
    assert body["user"]["created_at"].endswith("Z")
    datetime.fromisoformat(body["user"]["created_at"])
    uuid.UUID(body["user"]["id"])
    claims = jwt.decode(
        body["access_token"],
        settings.JWT_SECRET,
        algorithms=["HS256"],
        audience=settings.JWT_AUDIENCE,
    )
    assert claims["sub"] == body["user"]["id"]
    assert {"sub", "sid", "iat", "exp", "iss", "aud"} <= set(claims)
    assert "password" not in str(claims)
    assert len(body["refresh_token"]) >= 43  # 256 bits, base64


async def test_signup_stores_a_hashed_password_a_session_and_only_a_token_hash(api, password):
    response = await api.post(
        SIGNUP,
        json={"email": "stored@example.com", "password": password},
        headers={"User-Agent": "pytest-agent"},
    )
    body = response.json()
    user = await User.objects.aget(pk=body["user"]["id"])
    assert user.password.startswith("argon2$")
    assert password not in user.password
    assert await user.acheck_password(password)
    session = await AuthSession.objects.aget(user=user)
    assert session.user_agent == "pytest-agent"
    assert session.client_ip == "127.0.0.1"
    token = await RefreshToken.objects.aget(session=session)
    assert token.token_hash == token_digest(body["refresh_token"])
    assert not await RefreshToken.objects.filter(token_hash=body["refresh_token"]).aexists()


async def test_signup_response_is_compact_json(api, password):
    response = await api.post(SIGNUP, json={"email": "compact@example.com", "password": password})
    assert response.headers["content-type"].startswith("application/json")
    assert ", " not in response.text and '": ' not in response.text


@pytest.mark.parametrize("email", ["taken@example.com", "TAKEN@example.com", "Taken@Example.Com"])
async def test_signup_with_existing_email_in_any_case_is_409(api, users, password, email):
    await users.create(email="taken@example.com")
    response = await api.post(SIGNUP, json={"email": email, "password": password})
    assert response.status_code == 409
    assert response.json() == {"detail": "Email already registered"}
    assert await User.objects.acount() == 1


async def test_signup_race_on_one_email_gives_one_201_and_the_rest_409(api, password):
    emails = ["race@example.com", "RACE@example.com", "Race@Example.com", "race@EXAMPLE.com"] * 3
    responses = await asyncio.gather(
        *(api.post(SIGNUP, json={"email": e, "password": password}) for e in emails)
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(201) == 1
    assert set(statuses) == {201, 409}
    assert await User.objects.filter(email="race@example.com").acount() == 1


async def test_signup_with_empty_body_lists_both_missing_fields_like_fastapi(api):
    response = await api.post(SIGNUP, json={})
    assert response.status_code == 422
    assert response.json() == {
        "detail": [
            {"type": "missing", "loc": ["body", "email"], "msg": "Field required"},
            {"type": "missing", "loc": ["body", "password"], "msg": "Field required"},
        ]
    }


@pytest.mark.parametrize(
    ("password", "code"),
    [
        ("Xy7!", "password_too_short"),
        ("password123", "password_too_common"),
        ("83749201938", "password_entirely_numeric"),
        ("x" * 129, "password_too_long"),
        ("similar.person@example.com", "password_too_similar"),
    ],
)
async def test_signup_with_a_weak_password_is_422_with_the_validator_code(api, password, code):
    response = await api.post(
        SIGNUP, json={"email": "similar.person@example.com", "password": password}
    )
    assert response.status_code == 422
    errors = response.json()["detail"]
    assert code in [e["type"] for e in errors]
    assert all(e["loc"] == ["body", "password"] for e in errors)
    assert password not in response.text
    assert await User.objects.acount() == 0


async def test_signup_with_a_ten_thousand_character_password_is_422_only_for_length(api):
    response = await api.post(SIGNUP, json={"email": "long@example.com", "password": "y" * 10_000})
    assert response.status_code == 422
    assert [e["type"] for e in response.json()["detail"]] == ["password_too_long"]


@pytest.mark.parametrize(
    "email",
    ["not-an-email", "", "a@", "@b.com", "x" * 250 + "@example.com", None, 5, ["a@b.c"]],
)
async def test_signup_with_an_invalid_email_is_422_on_the_email_field(api, password, email):
    response = await api.post(SIGNUP, json={"email": email, "password": password})
    assert response.status_code == 422
    assert [e["loc"] for e in response.json()["detail"]] == [["body", "email"]]


async def test_signup_error_never_echoes_the_password(api):
    secret = "hunter2-is-my-secret"
    response = await api.post(SIGNUP, json={"email": "bad", "password": secret})
    assert response.status_code == 422
    assert secret not in response.text
    assert "input" not in response.text


async def test_signup_accepts_unicode_domains(api, password):
    # Unicode local parts are refused (look-alikes): tests/accounts/test_lookalike_emails.py.
    response = await api.post(SIGNUP, json={"email": "Unicode@Exämple.com", "password": password})
    assert response.status_code == 201
    assert response.json()["user"]["email"] == "unicode@exämple.com"
