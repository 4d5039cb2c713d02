"""The cookie transport for browser apps: `X-Auth-Transport: cookie` puts the session in two
HttpOnly cookies, the API accepts them back, and the CSRF rule guards every cookie-authenticated
change; bearer clients see no change."""

from http.cookies import SimpleCookie

import httpx
import pytest

from accounts.models import AuthSession
from tests.accounts.helpers import bearer
from tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)

AUTH = "/api/auth"
COOKIE_MODE = {"X-Auth-Transport": "cookie"}
FRONTEND = "http://localhost:3000"  # CORS_ORIGINS' default
ELSEWHERE = "http://evil.example"


def set_cookies(response: httpx.Response) -> dict[str, SimpleCookie]:
    """Each Set-Cookie header of the answer, by cookie name, with its attributes."""
    cookies = {}
    for header in response.headers.get_list("set-cookie"):
        cookie = SimpleCookie()
        cookie.load(header)
        for name in cookie:
            cookies[name] = cookie
            cookies[name].raw = header  # type: ignore[attr-defined]
    return cookies


def jar(response: httpx.Response) -> dict[str, str]:
    return {name: cookie[name].value for name, cookie in set_cookies(response).items()}


def cookie_header(cookies: dict[str, str]) -> dict[str, str]:
    return {"Cookie": "; ".join(f"{name}={value}" for name, value in cookies.items())}


async def cookie_signup(api: httpx.AsyncClient, email: str) -> tuple[dict, dict[str, str]]:
    response = await api.post(
        f"{AUTH}/signup", json={"email": email, "password": DEFAULT_PASSWORD}, headers=COOKIE_MODE
    )
    assert response.status_code == 201, response.text
    return response.json(), jar(response)


async def test_cookie_mode_sets_both_host_cookies_and_keeps_the_refresh_token_out_of_the_body(
    api, settings
):
    response = await api.post(
        f"{AUTH}/signup",
        json={"email": "cookies@example.com", "password": DEFAULT_PASSWORD},
        headers=COOKIE_MODE,
    )
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"user", "access_token", "token_type", "expires_in"}
    cookies = set_cookies(response)
    assert set(cookies) == {"__Host-access", "__Host-refresh"}
    assert cookies["__Host-access"]["__Host-access"].value == body["access_token"]
    for name, max_age in (
        ("__Host-access", settings.ACCESS_TOKEN_TTL),
        ("__Host-refresh", settings.REFRESH_TOKEN_TTL),
    ):
        morsel = cookies[name][name]
        assert morsel["httponly"] is True and morsel["secure"] is True
        assert morsel["samesite"] == "Lax" and morsel["path"] == "/"
        assert morsel["domain"] == ""
        assert morsel["max-age"] == str(max_age)
    assert response.headers["cache-control"] == "no-store"


async def test_bearer_clients_see_no_cookie_and_the_whole_body(api):
    response = await api.post(
        f"{AUTH}/signup", json={"email": "bearer@example.com", "password": DEFAULT_PASSWORD}
    )
    assert "set-cookie" not in response.headers
    assert "refresh_token" in response.json()
    signout = await api.post(f"{AUTH}/signout", headers=bearer(response.json()))
    assert signout.status_code == 200
    assert "set-cookie" not in signout.headers


async def test_the_access_cookie_authenticates_reads_without_any_header(api):
    _, cookies = await cookie_signup(api, "reader.cookie@example.com")
    me = await api.get(f"{AUTH}/me", headers=cookie_header(cookies))
    assert me.status_code == 200
    assert me.json()["email"] == "reader.cookie@example.com"
    # No header needed to read, from any origin: a GET changes nothing.
    assert (
        await api.get(f"{AUTH}/me", headers={**cookie_header(cookies), "Origin": ELSEWHERE})
    ).status_code == 200


async def test_the_authorization_header_wins_over_the_cookie(api):
    _, cookies = await cookie_signup(api, "header.wins@example.com")
    refused = await api.get(
        f"{AUTH}/me", headers={**cookie_header(cookies), "Authorization": "Bearer forged"}
    )
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"] == 'Bearer error="invalid_token"'


async def test_refresh_takes_the_cookie_with_no_body_and_sets_new_cookies(api):
    _, cookies = await cookie_signup(api, "refresh.cookie@example.com")
    # fetch() with no body: no content type at all.
    response = await api.post(
        f"{AUTH}/refresh", headers={**COOKIE_MODE, **cookie_header(cookies), "Origin": FRONTEND}
    )
    assert response.status_code == 200, response.text
    assert "refresh_token" not in response.json()
    renewed = jar(response)
    assert renewed["__Host-refresh"] != cookies["__Host-refresh"]
    assert (await api.get(f"{AUTH}/me", headers=cookie_header(renewed))).status_code == 200


async def test_a_refused_refresh_clears_both_cookies(api):
    response = await api.post(
        f"{AUTH}/refresh", headers={**COOKIE_MODE, **cookie_header({"__Host-refresh": "gone"})}
    )
    assert response.status_code == 401
    cookies = set_cookies(response)
    assert set(cookies) == {"__Host-access", "__Host-refresh"}
    for name, cookie in cookies.items():
        assert cookie[name]["max-age"] == "0" and cookie[name].value == ""


async def test_refresh_without_any_token_is_still_422_for_bearer_clients(api):
    response = await api.post(f"{AUTH}/refresh", json={})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "refresh_token"]


async def test_signout_with_the_refresh_cookie_alone_ends_the_session_and_clears_cookies(api):
    _, cookies = await cookie_signup(api, "signout.cookie@example.com")
    response = await api.post(
        f"{AUTH}/signout",
        headers={**COOKIE_MODE, **cookie_header({"__Host-refresh": cookies["__Host-refresh"]})},
    )
    assert response.status_code == 200, response.text
    assert {cookie for cookie, value in jar(response).items() if value == ""} == {
        "__Host-access",
        "__Host-refresh",
    }
    session = await AuthSession.objects.aget(user__email="signout.cookie@example.com")
    assert session.revoked_reason == "signout"
    assert (await api.get(f"{AUTH}/me", headers=cookie_header(cookies))).status_code == 401


@pytest.mark.parametrize(
    ("headers", "why"),
    [
        ({}, "no X-Auth-Transport header: a cross-site form"),
        ({"X-Auth-Transport": "bearer"}, "another transport"),
        ({**COOKIE_MODE, "Origin": ELSEWHERE}, "an origin the API does not serve"),
        ({**COOKIE_MODE, "Origin": "null"}, "an opaque origin (sandboxed frame, file:)"),
    ],
)
@pytest.mark.parametrize(
    ("method", "path", "json_body"),
    [
        ("POST", f"{AUTH}/signout", None),
        ("POST", f"{AUTH}/refresh", None),
        (
            "POST",
            f"{AUTH}/password",
            {"current_password": DEFAULT_PASSWORD, "new_password": "an0ther-Passw0rd"},
        ),
        ("POST", f"{AUTH}/sessions/revoke-others", None),
    ],
)
async def test_a_cookie_authenticated_change_that_fails_the_csrf_rule_is_403_and_changes_nothing(
    api, headers, why, method, path, json_body
):
    _, cookies = await cookie_signup(api, "csrf.target@example.com")
    response = await api.request(
        method, path, json=json_body, headers={**headers, **cookie_header(cookies)}
    )
    assert response.status_code == 403, why
    assert response.json() == {"detail": "CSRF check failed"}
    assert "set-cookie" not in response.headers
    session = await AuthSession.objects.aget(user__email="csrf.target@example.com")
    assert session.revoked_at is None
    # The cookies still work: nothing was rotated, revoked or changed.
    assert (await api.get(f"{AUTH}/me", headers=cookie_header(cookies))).status_code == 200
    again = await api.post(
        f"{AUTH}/signin",
        json={"email": "csrf.target@example.com", "password": DEFAULT_PASSWORD},
    )
    assert again.status_code == 200


@pytest.mark.parametrize("origin", [None, FRONTEND, "http://localhost"])
async def test_a_change_from_the_frontend_or_the_api_itself_passes_the_csrf_rule(api, origin):
    _, cookies = await cookie_signup(api, "csrf.friend@example.com")
    headers = {**COOKIE_MODE, **cookie_header(cookies)}
    if origin:
        headers["Origin"] = origin
    response = await api.post(f"{AUTH}/sessions/revoke-others", headers=headers)
    assert response.status_code == 200, response.text


async def test_cors_allows_credentials_for_the_configured_origins_only(api):
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "x-auth-transport,content-type",
    }
    allowed = await api.options(f"{AUTH}/refresh", headers={**preflight, "Origin": FRONTEND})
    assert allowed.headers["access-control-allow-origin"] == FRONTEND
    assert allowed.headers["access-control-allow-credentials"] == "true"
    assert "x-auth-transport" in allowed.headers["access-control-allow-headers"].lower()
    refused = await api.options(f"{AUTH}/refresh", headers={**preflight, "Origin": ELSEWHERE})
    assert "access-control-allow-origin" not in refused.headers
    assert "access-control-allow-credentials" not in refused.headers


@pytest.mark.parametrize(
    ("path", "payload"),
    [
        (f"{AUTH}/signin", {"email": "every.route@example.com", "password": DEFAULT_PASSWORD}),
        (
            f"{AUTH}/password",
            {"current_password": DEFAULT_PASSWORD, "new_password": "an0ther-Passw0rd"},
        ),
    ],
)
async def test_every_route_that_answers_a_session_can_answer_it_in_cookies(api, path, payload):
    _, cookies = await cookie_signup(api, "every.route@example.com")
    response = await api.post(
        path, json=payload, headers={**COOKIE_MODE, **cookie_header(cookies), "Origin": FRONTEND}
    )
    assert response.status_code == 200, response.text
    assert "refresh_token" not in response.json()
    assert set(jar(response)) == {"__Host-access", "__Host-refresh"}


@pytest.mark.parametrize("value", ["cookies", "Cookie ", "jwt"])
async def test_an_unknown_transport_is_422_before_anything_happens(api, value):
    response = await api.post(
        f"{AUTH}/signup",
        json={"email": "typo@example.com", "password": DEFAULT_PASSWORD},
        headers={"X-Auth-Transport": value},
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["header", "X-Auth-Transport"]
    assert not await AuthSession.objects.filter(user__email="typo@example.com").aexists()


async def test_signout_with_a_refused_access_cookie_still_ends_the_session_by_its_refresh_cookie(
    api,
):
    _, cookies = await cookie_signup(api, "stale.access@example.com")
    stale = {**cookies, "__Host-access": "expired-or-forged"}
    response = await api.post(f"{AUTH}/signout", headers={**COOKIE_MODE, **cookie_header(stale)})
    assert response.status_code == 200, response.text
    session = await AuthSession.objects.aget(user__email="stale.access@example.com")
    assert session.revoked_reason == "signout"
    refresh = await api.post(f"{AUTH}/refresh", headers={**COOKIE_MODE, **cookie_header(cookies)})
    assert refresh.status_code == 401


async def test_signout_with_only_a_refused_access_cookie_is_401_and_clears_the_cookies(api):
    response = await api.post(
        f"{AUTH}/signout", headers={**COOKIE_MODE, **cookie_header({"__Host-access": "forged"})}
    )
    assert response.status_code == 401
    assert set(jar(response)) == {"__Host-access", "__Host-refresh"}
