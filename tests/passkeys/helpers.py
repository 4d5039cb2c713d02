"""Helpers for the passkey tests: register a passkey through the API, sign in with one."""

import httpx

from tests.accounts.helpers import bearer
from tests.support.authenticator import SoftAuthenticator

AUTH = "/api/auth"


async def register_options(api: httpx.AsyncClient, session: dict) -> dict:
    response = await api.post(f"{AUTH}/passkeys/register/options", headers=bearer(session))
    assert response.status_code == 200, response.text
    return response.json()


async def register(
    api: httpx.AsyncClient, session: dict, authenticator: SoftAuthenticator, **create: object
) -> httpx.Response:
    made = await register_options(api, session)
    credential = authenticator.create(made["options"], **create)  # type: ignore[arg-type]
    return await api.post(
        f"{AUTH}/passkeys/register",
        json={"challenge_token": made["challenge_token"], "credential": credential},
        headers=bearer(session),
    )


async def registered(
    api: httpx.AsyncClient, session: dict, authenticator: SoftAuthenticator
) -> dict:
    response = await register(api, session, authenticator)
    assert response.status_code == 201, response.text
    return response.json()


async def signin_options(api: httpx.AsyncClient) -> dict:
    response = await api.post(f"{AUTH}/passkeys/signin/options")
    assert response.status_code == 200, response.text
    return response.json()


async def passkey_signin(
    api: httpx.AsyncClient, authenticator: SoftAuthenticator, **get: object
) -> httpx.Response:
    made = await signin_options(api)
    credential = authenticator.get(made["options"], **get)  # type: ignore[arg-type]
    return await api.post(
        f"{AUTH}/passkeys/signin",
        json={"challenge_token": made["challenge_token"], "credential": credential},
    )
