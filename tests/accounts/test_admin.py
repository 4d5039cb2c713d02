"""The Django admin through the real ASGI app: email login, users, sessions, static files."""

import re

import pytest

from accounts.models import AuthSession, User
from tests.accounts.helpers import signup

pytestmark = pytest.mark.django_db(transaction=True)
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def csrf_token(page: str) -> str:
    match = CSRF.search(page)
    assert match, "no CSRF token on the page"
    return match.group(1)


async def admin_login(api, email: str, password: str):
    page = await api.get("/admin/login/")
    token = csrf_token(page.text)
    return await api.post(
        "/admin/login/?next=/admin/",
        data={"username": email, "password": password, "csrfmiddlewaretoken": token},
    )


@pytest.fixture
async def staff(api):
    user = await User.objects.acreate_user(
        "Operator@Example.com", "operator-passphrase", is_staff=True, is_superuser=True
    )
    response = await admin_login(api, "OPERATOR@example.com", "operator-passphrase")
    assert response.status_code == 302, response.text[:300]
    return user


async def test_admin_login_with_email_in_any_case(api, staff):
    response = await api.get("/admin/")
    assert response.status_code == 200
    assert "operator@example.com" in response.text


async def test_admin_login_with_a_wrong_password_shows_the_form_again(api):
    await User.objects.acreate_user("op2@example.com", "operator-passphrase", is_staff=True)
    response = await admin_login(api, "op2@example.com", "wrong")
    assert response.status_code == 200
    assert "correct email" in response.text.lower()


async def test_admin_user_list_searches_by_email(api, staff):
    await signup(api, "findme@example.com")
    await signup(api, "other@example.com")
    response = await api.get("/admin/accounts/user/", params={"q": "findme"})
    assert response.status_code == 200
    assert "findme@example.com" in response.text
    assert "other@example.com" not in response.text
    filtered = await api.get("/admin/accounts/user/", params={"is_staff__exact": "1"})
    assert "operator@example.com" in filtered.text and "findme@example.com" not in filtered.text


async def test_admin_user_page_shows_the_users_sessions(api, staff):
    body = await signup(api, "withsessions@example.com")
    response = await api.get(f"/admin/accounts/user/{body['user']['id']}/change/")
    assert response.status_code == 200
    assert "Auth sessions" in response.text or "auth session" in response.text.lower()
    # Each session row is titled with something a person recognises, not the user's id.
    assert "withsessions@example.com since " in response.text
    assert f"{body['user']['id']} since" not in response.text


async def test_admin_revoke_action_revokes_sessions(api, staff):
    body = await signup(api, "revokable@example.com")
    session = await AuthSession.objects.aget(user__email="revokable@example.com")
    listing = await api.get("/admin/accounts/authsession/")
    token = csrf_token(listing.text)
    response = await api.post(
        "/admin/accounts/authsession/",
        data={
            "action": "revoke_sessions",
            "_selected_action": [str(session.pk)],
            "csrfmiddlewaretoken": token,
        },
    )
    assert response.status_code == 302
    me = await api.get("/api/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 401


async def test_admin_static_files_are_served_under_asgi(api):
    response = await api.get("/static/admin/css/base.css")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/css")


async def test_admin_without_trailing_slash_redirects(api):
    response = await api.get("/admin")
    assert response.status_code == 301
    assert response.headers["location"] == "/admin/"
