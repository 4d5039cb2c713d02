"""Small helpers for the accounts tests: sign up (and verify the address), sign in, change a
password or address through the API, and age a user's sessions past their freshness."""

from datetime import timedelta

import httpx
from django.utils import timezone

from accounts.models import AuthSession, RefreshTokenChain
from tests.factories import DEFAULT_PASSWORD
from tests.support.mail import link_token, only_message_to

VERIFICATION_SUBJECT = "Confirm your email address"


async def signup(api: httpx.AsyncClient, email: str, password: str = DEFAULT_PASSWORD) -> dict:
    response = await api.post("/api/auth/signup", json={"email": email, "password": password})
    assert response.status_code == 201, response.text
    return response.json()


async def verified_signup(
    api: httpx.AsyncClient, email: str, password: str = DEFAULT_PASSWORD
) -> dict:
    """Sign up, then follow the verification link mailed to the address: the session of a user
    who may add a second factor, a passkey or a linked identity."""
    session = await signup(api, email, password)
    await address_verify(api, email)
    return session


async def address_verify(api: httpx.AsyncClient, email: str) -> None:
    """Follow the verification link sign-up mailed to `email`."""
    token = link_token(only_message_to(email, VERIFICATION_SUBJECT))
    response = await api.post("/api/auth/email/verify", json={"token": token})
    assert response.status_code == 200, response.text


async def signin(api: httpx.AsyncClient, email: str, password: str = DEFAULT_PASSWORD) -> dict:
    response = await api.post("/api/auth/signin", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return response.json()


def bearer(session: dict) -> dict[str, str]:
    return {"Authorization": f"Bearer {session['access_token']}"}


async def change_password(
    api: httpx.AsyncClient, session: dict, new_password: str, current: str = DEFAULT_PASSWORD
) -> httpx.Response:
    body = {"current_password": current, "new_password": new_password}
    return await api.post("/api/auth/password", json=body, headers=bearer(session))


async def confirm_reset(api: httpx.AsyncClient, email: str, new_password: str) -> httpx.Response:
    """Follow the reset link mailed to `email` (asked for already), setting `new_password`."""
    token = link_token(only_message_to(email, "Reset your password"))
    return await api.post(
        "/api/auth/password/reset/confirm", json={"token": token, "new_password": new_password}
    )


async def ask_email_change(
    api: httpx.AsyncClient, session: dict, new_email: str, password: str = DEFAULT_PASSWORD
) -> httpx.Response:
    body = {"new_email": new_email, "current_password": password}
    return await api.post("/api/auth/email/change", json=body, headers=bearer(session))


async def age_sessions(email: str, seconds: int) -> None:
    """Move the sign-in and the re-authentications of the user's sessions `seconds` into the
    past: each chain that was fresh is as fresh as it was then (RefreshTokenChain.proved_at),
    and one that never was stays so."""
    past = timezone.now() - timedelta(seconds=seconds)
    await AuthSession.objects.filter(user__email=email).aupdate(
        created_at=past, reauthenticated_at=None
    )
    await RefreshTokenChain.objects.filter(
        session__user__email=email, proved_at__isnull=False
    ).aupdate(proved_at=past)
