"""GET /metrics: off without METRICS_TOKEN, bearer-only with it, and numbers that move as
requests are made, with one worker process and with two."""

import asyncio
import os
import re
import signal
import time
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from server.access import RECORD_DELAY
from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.support.commands import ROOT, run_manage

pytestmark = pytest.mark.django_db(transaction=True)

TOKEN = "metrics-test-token-0123456789"
AUTHORIZED = {"Authorization": f"Bearer {TOKEN}"}


def parse(text: str) -> dict[tuple[str, frozenset], float]:
    """Every sample of an exposition, keyed by its name and labels (the client's own parser)."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def scrape(url: str) -> tuple[dict, str]:
    response = httpx.get(f"{url}/metrics", headers=AUTHORIZED, timeout=10)
    assert response.status_code == 200, response.text
    return parse(response.text), response.headers["x-worker-pid"]


async def test_metrics_is_a_404_without_a_metrics_token(api):
    response = await api.get("/metrics", headers=AUTHORIZED)
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer wrong-token", f"Basic {TOKEN}", f"Bearer {TOKEN}x", "Bearer ", "Bearer ünï"],
)
async def test_metrics_is_a_401_without_the_right_bearer_token(api, settings, authorization):
    settings.METRICS_TOKEN = TOKEN
    headers = {"Authorization": authorization.encode()} if authorization else {}
    response = await api.get("/metrics", headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json() == {"detail": "Not authenticated"}


async def test_metrics_with_the_token_answers_the_prometheus_text_format(api, settings):
    settings.METRICS_TOKEN = TOKEN
    await api.get("/health/ready")
    response = await api.get("/metrics", headers=AUTHORIZED)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    assert response.headers["cache-control"] == "no-store"
    families = list(text_string_to_metric_families(response.text))
    assert families
    assert all(family.name.startswith("accounts_") for family in families)
    samples = parse(response.text)
    assert (
        value(
            samples, "accounts_readiness_checks_total", check="database:responseTime", status="pass"
        )
        >= 1
    )


async def test_metrics_answers_by_pod_ip_whatever_allowed_hosts_says(api, settings):
    settings.METRICS_TOKEN = TOKEN
    response = await api.get("/metrics", headers={**AUTHORIZED, "Host": "10.1.2.3:8081"})
    assert response.status_code == 200


def metrics_directory_of(server) -> str:
    found = re.search(r"Metrics: values kept in (\S+)", server.output())
    assert found, server.output()
    return found.group(1)


def signup(url: str, email: str) -> httpx.Response:
    return httpx.post(
        f"{url}/api/auth/signup", json={"email": email, "password": DEFAULT_PASSWORD}, timeout=30
    )


def test_the_numbers_move_as_requests_are_made_with_one_worker(serve_factory):
    server = serve_factory(
        METRICS_TOKEN=TOKEN, WORKERS="1", RATE_LIMITS="on", RATE_LIMIT_SIGNUP="2/h"
    )
    before, _ = scrape(server.url)
    for _ in range(5):
        assert httpx.get(f"{server.url}/health").status_code == 200
    first = signup(server.url, UserFactory.email())
    assert first.status_code == 201
    assert signup(server.url, UserFactory.email()).status_code == 201
    assert signup(server.url, UserFactory.email()).status_code == 429
    access = {"Authorization": f"Bearer {first.json()['access_token']}"}
    for _ in range(2):
        assert httpx.get(f"{server.url}/api/auth/me", headers=access).status_code == 200
    assert httpx.post(f"{server.url}/api/auth/signout", headers=access).status_code == 200
    assert httpx.get(f"{server.url}/health/ready").status_code == 200
    assert httpx.get(f"{server.url}/no/such/path/123").status_code == 404
    after, _ = scrape(server.url)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    health = {"route": "/health", "method": "GET", "status": "200"}
    me = {"route": "/api/auth/me", "method": "GET", "status": "200"}
    assert grew("accounts_http_requests_total", **health) == 5
    assert grew("accounts_http_request_duration_seconds_count", **health) == 5
    assert grew("accounts_http_request_duration_seconds_sum", **health) > 0
    assert grew("accounts_http_request_duration_seconds_bucket", **health, le="+Inf") == 5
    assert grew("accounts_http_requests_total", **me) == 2
    assert (
        grew("accounts_http_requests_total", route="/api/auth/signup", method="POST", status="429")
        == 1
    )
    # A path no route matches is counted under one label, never under the raw path.
    assert grew("accounts_http_requests_total", route="unmatched", method="GET", status="404") == 1
    assert not any("no/such" in str(labels) for _, labels in after)
    assert grew("accounts_throttle_refusals_total", scope="signup-ip") == 1
    assert grew("accounts_sessions_issued_total") == 2
    assert grew("accounts_sessions_revoked_total", reason="signout") == 1
    assert (
        grew("accounts_readiness_checks_total", check="database:responseTime", status="pass") == 1
    )
    assert grew("accounts_readiness_checks_total", check="migrations:pending", status="pass") == 1
    # The hashing pool is idle again, and nothing was shed.
    assert value(after, "accounts_password_hashing_in_use") == 0
    assert value(after, "accounts_password_hashing_queued") == 0
    assert ("accounts_password_hashing_shed_total", frozenset()) in after
    # psycopg_pool's statistics of the worker's pool (DB_POOL_MAX_SIZE defaults to 10).
    assert value(after, "accounts_db_pool_connections_max") == 10
    assert value(after, "accounts_db_pool_connections") >= 1
    assert grew("accounts_db_pool_requests_total") >= 5


def test_two_workers_count_requests_together(serve_factory):
    server = serve_factory(METRICS_TOKEN=TOKEN, WORKERS="2", timeout=60)
    directory = metrics_directory_of(server)
    before, _ = scrape(server.url)
    answered_by: set[str] = set()
    made = 0
    with httpx.Client(base_url=server.url) as client:
        # One connection per request: the kernel spreads connections, not requests.
        while len(answered_by) < 2 or made < 20:
            assert made < 500, "one worker answered every request"
            response = client.get("/health", headers={"Connection": "close"})
            answered_by.add(response.headers["x-worker-pid"])
            made += 1
    # Whichever worker answers a scrape, it counts the requests of both: its own at once, the
    # other's within RECORD_DELAY.
    health = {"route": "/health", "method": "GET", "status": "200"}
    scrape_until_counted(server.url, value(before, "accounts_http_requests_total", **health) + made)
    scraped_by: set[str] = set()
    for _ in range(200):
        after, pid = httpx_scrape_new_connection(server.url)
        grown = value(
            after, "accounts_http_requests_total", route="/health", method="GET", status="200"
        ) - value(
            before, "accounts_http_requests_total", route="/health", method="GET", status="200"
        )
        assert grown == made, (pid, grown, made)
        scraped_by.add(pid)
        if len(scraped_by) == 2:
            break
    assert scraped_by == answered_by
    # Both workers' pools are in the gauges, added up over live workers: 2 x DB_POOL_MAX_SIZE.
    assert value(after, "accounts_db_pool_connections_max") == 20
    assert Path(directory).is_dir()
    server.stop()
    assert not Path(directory).exists(), "server.serve leaves its metrics directory behind"


def scrape_until_counted(url: str, total: float) -> None:
    """Scrape until the answered requests of /health add up to `total` in every worker's files:
    each worker writes its own within RECORD_DELAY, later on a loaded machine."""
    health = {"route": "/health", "method": "GET", "status": "200"}
    deadline = time.monotonic() + 10
    while True:
        samples, _ = httpx_scrape_new_connection(url)
        counted = value(samples, "accounts_http_requests_total", **health)
        assert counted <= total
        if counted == total:
            return
        assert time.monotonic() < deadline, (counted, total)
        time.sleep(RECORD_DELAY)


def httpx_scrape_new_connection(url: str) -> tuple[dict, str]:
    response = httpx.get(
        f"{url}/metrics", headers={**AUTHORIZED, "Connection": "close"}, timeout=10
    )
    assert response.status_code == 200, response.text
    return parse(response.text), response.headers["x-worker-pid"]


def test_plain_uvicorn_workers_share_one_metrics_directory(live_server_factory):
    server = live_server_factory("--workers", "2", METRICS_TOKEN=TOKEN, timeout=60)
    directory = metrics_directory_of(server)
    try:
        assert Path(directory).name.startswith("accounts-metrics-")
        before, _ = scrape(server.url)
        answered_by: set[str] = set()
        made = 0
        while len(answered_by) < 2 or made < 20:
            assert made < 500, "one worker answered every request"
            response = httpx.get(f"{server.url}/health")
            answered_by.add(response.headers["x-worker-pid"])
            made += 1
        labels = {"route": "/health", "method": "GET", "status": "200"}
        total = value(before, "accounts_http_requests_total", **labels) + made
        scrape_until_counted(server.url, total)  # the other worker's latest reach its file
        deadline = time.monotonic() + 30
        scraped_by: set[str] = set()
        while scraped_by != answered_by:
            assert time.monotonic() < deadline, scraped_by
            after, pid = httpx_scrape_new_connection(server.url)
            grown = value(after, "accounts_http_requests_total", **labels) - value(
                before, "accounts_http_requests_total", **labels
            )
            assert grown == made
            scraped_by.add(pid)
    finally:
        server.stop()
        import shutil

        shutil.rmtree(directory, ignore_errors=True)


def test_hashing_pool_gauges_show_hashes_in_progress_and_shed_requests_are_counted(serve_factory):
    server = serve_factory(
        METRICS_TOKEN=TOKEN,
        TEST_PRODUCTION_HASHER="1",  # real Argon2: hashes take long enough to be seen
        HASHER_CONCURRENCY="1",
        HASHER_QUEUE="1",
    )
    before, _ = scrape(server.url)
    seen_in_use: set[float] = set()
    seen_queued: set[float] = set()

    async def storm() -> list[int]:
        async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:

            async def one() -> int:
                email = UserFactory.email()
                body = {"email": email, "password": DEFAULT_PASSWORD}
                return (await client.post("/api/auth/signup", json=body)).status_code

            async def watch(signups: asyncio.Future) -> None:
                while not signups.done():
                    response = await client.get("/metrics", headers=AUTHORIZED)
                    samples = parse(response.text)
                    seen_in_use.add(value(samples, "accounts_password_hashing_in_use"))
                    seen_queued.add(value(samples, "accounts_password_hashing_queued"))
                    await asyncio.sleep(0.01)

            signups = asyncio.gather(*(one() for _ in range(6)))
            await watch(signups)
            return list(await signups)

    statuses = asyncio.run(storm())
    after, _ = scrape(server.url)
    # One hash at a time, one waiting; the others were shed with 503 before any hashing.
    assert statuses.count(201) >= 2 and statuses.count(503) >= 1, statuses
    assert max(seen_in_use) == 1 and max(seen_queued) <= 1, (seen_in_use, seen_queued)
    shed = value(after, "accounts_password_hashing_shed_total") - value(
        before, "accounts_password_hashing_shed_total"
    )
    assert shed == statuses.count(503)
    assert value(after, "accounts_password_hashing_in_use") == 0


def test_a_killed_worker_leaves_its_counts_but_not_its_gauges(serve_factory):
    server = serve_factory(METRICS_TOKEN=TOKEN, WORKERS="2", timeout=60)
    health = {"route": "/health", "method": "GET", "status": "200"}
    # The worker answering this scrape sampled its pool: it has gauges to leave behind.
    before, victim = scrape(server.url)
    pids: set[str] = set()
    made = int(value(before, "accounts_http_requests_total", **health))
    while len(pids) < 2:
        assert made < 500, "one worker answered every request"
        response = httpx.get(f"{server.url}/health", headers={"Connection": "close"})
        pids.add(response.headers["x-worker-pid"])
        made += 1
    assert value(before, "accounts_db_pool_connections_max") == 10
    scrape_until_counted(server.url, made)  # what a worker killed sooner had not written is lost
    os.kill(int(victim), signal.SIGKILL)  # no shutdown: its gauge files stay behind
    # uvicorn's supervisor starts a replacement, which forgets the dead worker's gauges.
    deadline = time.monotonic() + 60
    while server.output().count("Metrics: values kept in") < 3:
        assert time.monotonic() < deadline, server.output()
        time.sleep(0.2)
    # Once both live workers have answered a scrape (each samples its own pool when it does),
    # the pool gauges add up exactly two workers: the dead one's were forgotten.
    scraped_by: set[str] = set()
    while len(scraped_by) < 2:
        assert time.monotonic() < deadline, scraped_by
        samples, pid = httpx_scrape_new_connection(server.url)
        assert pid != victim
        scraped_by.add(pid)
        # Counters keep what the dead worker counted.
        assert value(samples, "accounts_http_requests_total", **health) == made
    assert value(samples, "accounts_db_pool_connections_max") == 20


def test_a_blank_multiprocess_directory_means_single_process_mode_and_no_files():
    result = run_manage(
        "shell",
        "-c",
        "from toolkit import metrics; print(metrics.multiprocess_mode())",
        PROMETHEUS_MULTIPROC_DIR="",
        METRICS_TOKEN=TOKEN,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "False"
    assert not list(ROOT.glob("*.db")), "metric files in the working directory"
