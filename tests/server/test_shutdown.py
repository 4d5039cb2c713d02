"""SIGTERM in the middle of a sign-up storm: readiness fails at once, every request in flight is
answered in full or was never served, no half-written row, and the process ends cleanly."""

import asyncio
import itertools
import os
import signal
import time
from dataclasses import dataclass

import httpx
import psycopg
import pytest
from django.conf import settings

from accounts.models import AuthSession, RefreshToken, User
from tests.conftest import subprocess_database_url
from tests.factories import DEFAULT_PASSWORD
from tests.support.markers import LIVE

pytestmark = [*LIVE, pytest.mark.slow]

APPLICATION_NAME = "shutdown-storm"
CLIENTS = 16
numbers = itertools.count()


@dataclass
class Outcome:
    email: str
    started: float
    finished: float
    status: int | None = None  # None: refused (no answer at all)
    error: str = ""
    broken: bool = False  # an answer began and did not finish


async def sign_up(url: str, email: str) -> Outcome:
    outcome = Outcome(email=email, started=time.monotonic(), finished=0.0)
    # A new connection per request, so that each one is either served or refused as a whole.
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        try:
            async with client.stream(
                "POST", "/api/auth/signup", json={"email": email, "password": DEFAULT_PASSWORD}
            ) as response:
                outcome.status = response.status_code
                try:
                    body = await response.aread()
                except httpx.HTTPError as error:
                    outcome.broken, outcome.error = True, repr(error)
                else:
                    length = response.headers.get("content-length")
                    if length is not None and int(length) != len(body):
                        outcome.broken, outcome.error = True, f"{len(body)} of {length} bytes"
        except httpx.HTTPError as error:
            if outcome.status is None:
                outcome.error = repr(error)
            else:
                outcome.broken, outcome.error = True, repr(error)
    outcome.finished = time.monotonic()
    return outcome


async def storm_then_sigterm(server, storm_seconds: float) -> tuple[list[Outcome], float, list]:
    outcomes: list[Outcome] = []
    readiness: list[object] = []
    signalled = asyncio.Event()
    sent_at = 0.0

    async def client(number: int) -> None:
        refused = 0
        deadline = time.monotonic() + 60
        while refused < 2 and time.monotonic() < deadline:
            email = f"storm{number}-{next(numbers)}@example.com"
            outcome = await sign_up(server.url, email)
            outcomes.append(outcome)
            if outcome.status is None and signalled.is_set():
                refused += 1
            elif outcome.status == 503:
                await asyncio.sleep(0.05)

    async def terminate() -> None:
        nonlocal sent_at
        await asyncio.sleep(storm_seconds)
        sent_at = time.monotonic()
        os.kill(server.process.pid, signal.SIGTERM)  # as Kubernetes does: the main process
        signalled.set()
        # Readiness from now on: 503, or no connection at all; never 200.
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as probe:
            for _ in range(100):
                try:
                    response = await probe.get("/health/ready", headers={"Connection": "close"})
                    readiness.append(response.status_code)
                except httpx.HTTPError as error:
                    readiness.append(type(error).__name__)
                    if server.process.poll() is not None:
                        break
                await asyncio.sleep(0.02)

    await asyncio.gather(terminate(), *(client(n) for n in range(CLIENTS)))
    return outcomes, sent_at, readiness


def backends_of_the_server() -> int:
    database = settings.DATABASES["default"]
    with psycopg.connect(
        host=database["HOST"],
        port=database["PORT"],
        user=database["USER"],
        password=database["PASSWORD"],
        dbname="postgres",
        sslmode="prefer",
    ) as connection:
        row = connection.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s",
            [APPLICATION_NAME],
        ).fetchone()
    assert row is not None
    return int(row[0])


@pytest.mark.parametrize("workers", ["1", "2"])
def test_sigterm_during_a_signup_storm_answers_or_cleanly_refuses_every_request(
    serve_factory, workers
):
    server = serve_factory(
        WORKERS=workers,
        TEST_PRODUCTION_HASHER="1",  # real Argon2: many sign-ups in flight at the signal
        TEST_SERVER_DATABASE_URL=f"{subprocess_database_url()}?application_name={APPLICATION_NAME}",
        SHUTDOWN_TIMEOUT="20",
        timeout=60,
    )
    httpx.get(f"{server.url}/health/ready").raise_for_status()
    assert backends_of_the_server() >= 1
    outcomes, sent_at, readiness = asyncio.run(storm_then_sigterm(server, storm_seconds=2.0))
    status = server.process.wait(timeout=30)
    log = server.output()

    assert status in (0, -signal.SIGTERM), log
    broken = [o for o in outcomes if o.broken]
    assert not broken, broken
    answered_in_flight = [
        o for o in outcomes if o.status == 201 and o.started < sent_at < o.finished
    ]
    assert answered_in_flight, "no sign-up was in flight at the signal: the test proves nothing"
    assert 200 not in readiness, readiness
    assert "Draining: readiness fails from now on" in log
    assert log.count("Application shutdown complete.") == int(workers), log
    assert "Traceback" not in log, log
    assert backends_of_the_server() == 0, "the pool's connections outlived the process"

    # Every 201 left a user with a session and its refresh token; nothing else left a user.
    created = {o.email for o in outcomes if o.status == 201}
    users = {user.email: user for user in User.objects.all()}
    assert set(users) == created
    sessions = {s.user_id: s for s in AuthSession.objects.all()}
    assert set(sessions) == {user.pk for user in users.values()}
    assert RefreshToken.objects.filter(session__in=sessions.values()).count() == len(sessions)


def test_shutdown_timeout_bounds_how_long_requests_in_flight_may_take(serve_factory):
    server = serve_factory(TEST_ROOT_URLCONF="tests.support.live_slow_urls", SHUTDOWN_TIMEOUT="2")

    async def requests_then_sigterm() -> tuple[httpx.Response | Exception, ...]:
        async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:

            async def sigterm_soon() -> None:
                await asyncio.sleep(0.5)
                os.kill(server.process.pid, signal.SIGTERM)

            async def wait(seconds: float) -> httpx.Response | Exception:
                try:
                    return await client.get("/waits", params={"seconds": seconds})
                except httpx.HTTPError as error:
                    return error

            _, short, long = await asyncio.gather(sigterm_soon(), wait(1.5), wait(30))
            return short, long

    started = time.monotonic()
    short, long = asyncio.run(requests_then_sigterm())
    status = server.process.wait(timeout=30)
    took = time.monotonic() - started
    # The request that fits in SHUTDOWN_TIMEOUT is answered; the one that does not is cut when
    # it runs out, with a 503 that says why (retry elsewhere), and the process ends cleanly.
    assert isinstance(short, httpx.Response) and short.status_code == 200, short
    assert isinstance(long, httpx.Response), long
    assert long.status_code == 503
    assert long.json() == {"detail": "The server is shutting down: retry"}
    assert long.headers["retry-after"] == "1"
    assert long.headers["x-request-id"]
    assert took < 0.5 + 2 + 5, took
    assert status in (0, -signal.SIGTERM), server.output()
    assert "timeout graceful shutdown exceeded" in server.output()
    assert "Traceback" not in server.output()
