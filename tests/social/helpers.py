"""The browser's part of sign-in with a provider, done over HTTP against the in-process API."""

from dataclasses import dataclass
from http.cookies import SimpleCookie
from urllib.parse import urlsplit

import httpx

from tests.support.oidc_provider import callback_query, provider_login

AUTH = "/api/auth"
BINDING_COOKIE = "__Host-provider-flow"
FRONTEND_CALLBACK = "http://localhost:3000/auth/callback"


@dataclass
class Started:
    authorization_url: str
    binding: str  # the binding cookie's value


async def authorize(
    api: httpx.AsyncClient, process: str = "signin", headers: dict[str, str] | None = None
) -> Started:
    response = await api.post(
        f"{AUTH}/providers/acme/authorize", json={"process": process}, headers=headers or {}
    )
    assert response.status_code == 200, response.text
    cookie = SimpleCookie(response.headers["set-cookie"])[BINDING_COOKIE]
    assert cookie["httponly"] and cookie["secure"] and cookie["samesite"] == "Lax"
    return Started(response.json()["authorization_url"], cookie.value)


async def callback(api: httpx.AsyncClient, url: str, binding: str | None) -> dict[str, str]:
    """Our callback, reached by the provider's redirect: the query the frontend is sent with."""
    split = urlsplit(url)
    headers = {"Cookie": f"{BINDING_COOKIE}={binding}"} if binding else {}
    response = await api.get(f"{split.path}?{split.query}", headers=headers)
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith(f"{FRONTEND_CALLBACK}?"), location
    return callback_query(location)


async def provider_signin(
    api: httpx.AsyncClient, login: str, process: str = "signin", headers: dict | None = None
) -> dict[str, str]:
    """The whole round trip up to the frontend: authorize, the provider's login, our callback."""
    started = await authorize(api, process, headers)
    back = await provider_login(started.authorization_url, login)
    return await callback(api, back, started.binding)


async def exchange(api: httpx.AsyncClient, code: str, **headers: str) -> httpx.Response:
    return await api.post(f"{AUTH}/providers/exchange", json={"code": code}, headers=headers)


async def signed_in(api: httpx.AsyncClient, login: str) -> dict:
    query = await provider_signin(api, login)
    assert "code" in query, query
    response = await exchange(api, query["code"])
    assert response.status_code == 200, response.text
    return response.json()
