"""Races against a live server: one email signed up 100 times at once, one token refreshed 50
times at once. The database decides; nobody gets a 500; nothing is duplicated."""

import asyncio
from collections import Counter

import httpx
import pytest

from accounts.models import AuthSession, RefreshToken, User
from tests.factories import DEFAULT_PASSWORD
from tests.support.markers import LIVE

pytestmark = [*LIVE, pytest.mark.attack]


def mixed_case(email: str, n: int) -> str:
    return "".join(c.upper() if (n >> i) & 1 else c for i, c in enumerate(email))


def test_hundred_concurrent_signups_of_one_email_make_one_user(live_server_factory):
    server = live_server_factory(RATE_LIMITS="off")

    async def storm() -> list[httpx.Response]:
        limits = httpx.Limits(max_connections=100)
        async with httpx.AsyncClient(base_url=server.url, timeout=30, limits=limits) as client:
            return await asyncio.gather(
                *(
                    client.post(
                        "/api/auth/signup",
                        json={
                            "email": mixed_case("race@example.com", n),
                            "password": DEFAULT_PASSWORD,
                        },
                    )
                    for n in range(100)
                )
            )

    responses = asyncio.run(storm())
    statuses = [r.status_code for r in responses]
    print(f"\n100 sign-ups of one email: {sorted(Counter(statuses).items())}")
    assert statuses.count(201) == 1, statuses
    assert set(statuses) <= {201, 409, 503}, statuses
    for response in responses:
        if response.status_code == 503:
            assert response.headers["retry-after"]
    assert User.objects.filter(email="race@example.com").count() == 1
    assert "Traceback" not in server.output()


def test_with_no_grace_fifty_concurrent_refreshes_of_one_token_let_one_win(live_server_factory):
    server = live_server_factory(RATE_LIMITS="off", REFRESH_REUSE_GRACE="0")
    session = httpx.post(
        f"{server.url}/api/auth/signup",
        json={"email": "refresh.race@example.com", "password": DEFAULT_PASSWORD},
    ).json()

    async def storm() -> list[httpx.Response]:
        limits = httpx.Limits(max_connections=50)
        async with httpx.AsyncClient(base_url=server.url, timeout=30, limits=limits) as client:
            return await asyncio.gather(
                *(
                    client.post(
                        "/api/auth/refresh", json={"refresh_token": session["refresh_token"]}
                    )
                    for _ in range(50)
                )
            )

    statuses = [r.status_code for r in asyncio.run(storm())]
    print(f"\n50 refreshes of one token: {sorted(Counter(statuses).items())}")
    assert statuses.count(200) == 1, statuses
    assert set(statuses) <= {200, 401, 503}, statuses
    auth_session = AuthSession.objects.get(user__email="refresh.race@example.com")
    live_tokens = RefreshToken.objects.filter(session=auth_session, used_at__isnull=True).count()
    # Either the losers' replays revoked the session (theft detection), or exactly one token lives.
    assert auth_session.revoked_at is not None or live_tokens == 1
    assert live_tokens <= 1


def test_within_the_grace_twenty_concurrent_refreshes_of_one_token_all_answer(
    live_server_factory,
):
    """Tabs of one browser refreshing at the same moment (REFRESH_REUSE_GRACE, 10 s by default):
    every one stays signed in, on one live session, each with a token of its own."""
    server = live_server_factory(RATE_LIMITS="off")
    session = httpx.post(
        f"{server.url}/api/auth/signup",
        json={"email": "refresh.tabs@example.com", "password": DEFAULT_PASSWORD},
    ).json()

    async def storm() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
            return await asyncio.gather(
                *(
                    client.post(
                        "/api/auth/refresh", json={"refresh_token": session["refresh_token"]}
                    )
                    for _ in range(20)
                )
            )

    responses = asyncio.run(storm())
    assert [r.status_code for r in responses] == [200] * 20, [r.text for r in responses]
    tokens = {r.json()["refresh_token"] for r in responses}
    assert len(tokens) == 20
    auth_session = AuthSession.objects.get(user__email="refresh.tabs@example.com")
    assert auth_session.revoked_at is None
    assert RefreshToken.objects.filter(session=auth_session, used_at__isnull=True).count() == 20
    assert {r.json()["user"]["id"] for r in responses} == {session["user"]["id"]}
