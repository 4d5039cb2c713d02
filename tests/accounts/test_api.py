"""What clients of the accounts routes rely on beyond the bodies: challenges on 401, every
invalid field in one 422, distinct tokens, answers no cache keeps."""

import jwt
import pytest

from accounts.models import AuthSession
from tests.accounts.helpers import bearer, signup

pytestmark = pytest.mark.django_db(transaction=True)
AUTH = "/api/auth"
INVALID_TOKEN = 'Bearer error="invalid_token"'


async def test_wrong_signin_is_401_with_a_bearer_challenge(api, users, password):
    await users.create(email="challenge@example.com")
    wrong = await api.post(
        f"{AUTH}/signin", json={"email": "challenge@example.com", "password": "not-it-1234"}
    )
    assert wrong.status_code == 401
    assert wrong.headers["www-authenticate"] == "Bearer"


async def test_bad_refresh_token_is_401_with_the_invalid_token_challenge(api):
    response = await api.post(f"{AUTH}/refresh", json={"refresh_token": "not-a-token"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == INVALID_TOKEN


async def test_revoked_session_token_is_401_with_the_invalid_token_challenge(api):
    session = await signup(api, "revoked-challenge@example.com")
    await api.post(f"{AUTH}/signout", headers=bearer(session))
    response = await api.get(f"{AUTH}/me", headers=bearer(session))
    assert response.headers["www-authenticate"] == INVALID_TOKEN


async def test_422_lists_the_email_and_the_weak_password_in_one_answer(api):
    response = await api.post(f"{AUTH}/signup", json={"email": "not-an-email", "password": "Zq9!x"})
    assert response.status_code == 422
    errors = response.json()["detail"]
    assert [error["loc"] for error in errors] == [["body", "email"], ["body", "password"]]
    assert errors[1]["type"] == "password_too_short"
    assert "Zq9!x" not in response.text  # never echoed


async def test_422_lists_a_missing_field_and_every_password_problem(api):
    response = await api.post(f"{AUTH}/signup", json={"password": "12345678"})
    errors = response.json()["detail"]
    assert [(error["loc"], error["type"]) for error in errors] == [
        (["body", "email"], "missing"),
        (["body", "password"], "password_too_common"),
        (["body", "password"], "password_entirely_numeric"),
    ]


async def test_422_on_password_change_lists_the_weak_new_password_with_schema_errors(api):
    session = await signup(api, "change-422@example.com")
    response = await api.post(
        f"{AUTH}/password",
        json={"current_password": "", "new_password": "1234"},
        headers=bearer(session),
    )
    assert response.status_code == 422
    locs = {tuple(error["loc"]) for error in response.json()["detail"]}
    assert locs == {("body", "current_password"), ("body", "new_password")}


async def test_two_refreshes_in_the_same_second_give_different_access_tokens(api):
    first = await signup(api, "jti@example.com")
    second = await api.post(f"{AUTH}/refresh", json={"refresh_token": first["refresh_token"]})
    third = await api.post(
        f"{AUTH}/refresh", json={"refresh_token": second.json()["refresh_token"]}
    )
    tokens = [first["access_token"], second.json()["access_token"], third.json()["access_token"]]
    claims = [jwt.decode(token, options={"verify_signature": False}) for token in tokens]
    assert len({claim["jti"] for claim in claims}) == 3
    assert len(set(tokens)) == 3


@pytest.mark.parametrize("status", [201, 401, 422])
async def test_account_answers_are_never_cached(api, status):
    bodies = {
        201: {"email": "nostore@example.com", "password": "a-fine-passphrase"},
        401: {"email": "nobody@example.com", "password": "a-fine-passphrase"},
        422: {},
    }
    path = f"{AUTH}/signin" if status == 401 else f"{AUTH}/signup"
    response = await api.post(path, json=bodies[status])
    assert response.status_code == status
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["pragma"] == "no-cache"


async def test_me_refresh_and_password_answers_are_never_cached(api, password):
    session = await signup(api, "nostore-me@example.com")
    answers = [
        await api.get(f"{AUTH}/me", headers=bearer(session)),
        await api.post(f"{AUTH}/refresh", json={"refresh_token": session["refresh_token"]}),
    ]
    renewed = answers[1].json()
    answers.append(
        await api.post(
            f"{AUTH}/password",
            json={"current_password": password, "new_password": "another-fine-passphrase"},
            headers=bearer(renewed),
        )
    )
    for response in answers:
        assert response.status_code == 200, response.text
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["pragma"] == "no-cache"


async def test_health_answers_do_not_say_no_store(api):
    response = await api.get("/health")
    assert "pragma" not in response.headers


async def test_session_title_names_the_user_by_email(api):
    await signup(api, "titled@example.com")
    session = await AuthSession.objects.select_related("user").aget()
    assert str(session).startswith("titled@example.com since ")
