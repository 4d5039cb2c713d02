"""A database outage under light load: liveness holds, readiness and the API say 503 promptly,
and everything recovers by itself when PostgreSQL returns, without losing an answered sign-up."""

import asyncio
import time
from collections.abc import Iterator

import httpx
import psycopg
import pytest

from tests.factories import DEFAULT_PASSWORD
from tests.support.commands import run_manage
from tests.support.pgcluster import Cluster, start_cluster

pytestmark = [pytest.mark.postgresql, pytest.mark.live, pytest.mark.slow]

POOL_TIMEOUT = 1.0
READINESS_TIMEOUT = 1.0


@pytest.fixture
def own_cluster() -> Iterator[Cluster]:
    """A PostgreSQL of this test's own, migrated, that it may stop and start at will."""
    cluster = start_cluster()
    try:
        migrate = run_manage("migrate", "--noinput", DATABASE_URL=cluster.url())
        assert migrate.returncode == 0, migrate.stderr
        yield cluster
    finally:
        cluster.remove()


def signed_up_emails(cluster: Cluster) -> set[str]:
    with psycopg.connect(cluster.url()) as connection:
        return {row[0] for row in connection.execute("SELECT email FROM accounts_user")}


async def load(
    client: httpx.AsyncClient, log: list[tuple[str, int, float]], stop: asyncio.Event, phase: str
) -> None:
    """Light steady load: a sign-up, /health and /health/ready every ~50 ms."""
    n = 0
    while not stop.is_set():
        n += 1
        email = f"{phase}{n}@example.com"
        for method, path, body in (
            ("POST", "/api/auth/signup", {"email": email, "password": DEFAULT_PASSWORD}),
            ("GET", "/health", None),
            ("GET", "/health/ready", None),
        ):
            started = time.monotonic()
            try:
                response = await client.request(method, path, json=body)
                status = response.status_code
                if path.endswith("signup") and status == 201:
                    log.append((email, 201, 0.0))
            except httpx.HTTPError:
                status = 0
            log.append((path, status, time.monotonic() - started))
        await asyncio.sleep(0.05)


def test_database_outage_is_survived_and_recovered(own_cluster, live_server_factory):
    server = live_server_factory(
        TEST_SERVER_DATABASE_URL=own_cluster.url(),
        RATE_LIMITS="off",
        DB_POOL_TIMEOUT=str(POOL_TIMEOUT),
        DB_CONNECT_TIMEOUT="2",
        READINESS_TIMEOUT=str(READINESS_TIMEOUT),
    )

    async def scenario() -> dict[str, list[tuple[str, int, float]]]:
        phases: dict[str, list[tuple[str, int, float]]] = {}
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
            for phase, action in (
                ("before", None),
                ("outage", own_cluster.stop),
                ("after", own_cluster.start),
            ):
                if action is not None:
                    await asyncio.to_thread(action)
                if phase == "after":
                    await wait_until_ready(client)
                log: list[tuple[str, int, float]] = []
                stop = asyncio.Event()
                task = asyncio.create_task(load(client, log, stop, phase))
                await asyncio.sleep(3)
                stop.set()
                await task
                phases[phase] = log
        return phases

    phases = asyncio.run(scenario())

    def statuses(phase: str, path: str) -> list[int]:
        return [status for p, status, _ in phases[phase] if p == path]

    def slowest(phase: str, path: str) -> float:
        return max(seconds for p, _, seconds in phases[phase] if p == path)

    for phase in phases:
        summary = [
            f"{path} {sorted(set(statuses(phase, path)))} <= {slowest(phase, path) * 1000:.0f} ms"
            for path in ("/health", "/health/ready", "/api/auth/signup")
        ]
        print(f"\n{phase}: " + "; ".join(summary))
    assert set(statuses("before", "/api/auth/signup")) == {201}
    assert set(statuses("before", "/health/ready")) == {200}
    # Outage: liveness holds, readiness and the API answer 503 JSON within their timeouts.
    assert set(statuses("outage", "/health")) == {200}
    assert set(statuses("outage", "/health/ready")) == {503}
    assert set(statuses("outage", "/api/auth/signup")) == {503}
    assert slowest("outage", "/health/ready") < 3 * READINESS_TIMEOUT
    assert slowest("outage", "/api/auth/signup") < 3 * (POOL_TIMEOUT + 2)
    # Recovery without a restart.
    assert set(statuses("after", "/api/auth/signup")) == {201}
    assert set(statuses("after", "/health/ready")) == {200}
    answered = {
        p for phase in phases.values() for p, status, _ in phase if "@" in p and status == 201
    }
    assert answered <= signed_up_emails(own_cluster), "a sign-up answered 201 is missing"
    assert "Traceback" not in server.output()


async def wait_until_ready(client: httpx.AsyncClient, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (await client.get("/health/ready")).status_code == 200:
            return
        await asyncio.sleep(0.2)
    raise AssertionError("the server did not become ready again by itself")
