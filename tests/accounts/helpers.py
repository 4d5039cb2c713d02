"""Small helpers for the accounts tests: sign up and sign in through the API."""

import httpx

from tests.factories import DEFAULT_PASSWORD


async def signup(api: httpx.AsyncClient, email: str, password: str = DEFAULT_PASSWORD) -> dict:
    response = await api.post("/api/auth/signup", json={"email": email, "password": password})
    assert response.status_code == 201, response.text
    return response.json()


async def signin(api: httpx.AsyncClient, email: str, password: str = DEFAULT_PASSWORD) -> dict:
    response = await api.post("/api/auth/signin", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return response.json()


def bearer(session: dict) -> dict[str, str]:
    return {"Authorization": f"Bearer {session['access_token']}"}
