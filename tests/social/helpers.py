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
    response = await api.get(f"{split.path}?{split.query}", headers=binding_cookie(binding))
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


@dataclass
class Handed:
    code: str  # the callback's `?code=` for the frontend
    binding: str  # the binding cookie of the browser that started the flow


async def provider_code(api: httpx.AsyncClient, login: str) -> Handed:
    """The round trip up to the frontend's page, which was handed a code."""
    started = await authorize(api)
    back = await provider_login(started.authorization_url, login)
    query = await callback(api, back, started.binding)
    assert "code" in query, query
    return Handed(query["code"], started.binding)


def binding_cookie(binding: str | None) -> dict[str, str]:
    """The Cookie header of a browser with this binding cookie (httpx's own jar keeps no
    Secure cookie over http://)."""
    return {"Cookie": f"{BINDING_COOKIE}={binding}"} if binding else {}


def cookies_set(response: httpx.Response) -> dict[str, str]:
    """Each cookie an answer sets (or clears), by name: its whole Set-Cookie line."""
    lines = response.headers.get_list("set-cookie")
    return {line.split("=", 1)[0]: line for line in lines}


async def exchange(
    api: httpx.AsyncClient, code: str, binding: str | None, **headers: str
) -> httpx.Response:
    """The frontend's page trading the code, in a browser with `binding` (or no) cookie."""
    return await api.post(
        f"{AUTH}/providers/exchange",
        json={"code": code},
        headers={**binding_cookie(binding), **headers},
    )


async def signed_in(api: httpx.AsyncClient, login: str) -> dict:
    handed = await provider_code(api, login)
    response = await exchange(api, handed.code, handed.binding)
    assert response.status_code == 200, response.text
    return response.json()
