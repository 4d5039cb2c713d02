"""What instances share: one failed-sign-in budget whichever instance counts it (in Redis or in
PostgreSQL's table), a sign-out on one instance refused at once on the others, and Redis going
away and coming back without a 500. Once more with two worker processes per instance."""

import time
from collections.abc import Iterator

import httpx
import pytest

from tests.deploy.conftest import cluster_finish, cluster_start
from tests.support.cluster import ClusterOptions, ServiceCluster
from tests.support.load import PASSWORD

pytestmark = [pytest.mark.slow, pytest.mark.cluster]
# (throttle store, worker processes per instance)
REDIS = ("redis", 1)
DATABASE = ("database", 1)
REDIS_TWO_WORKERS = ("redis", 2)
EVERY_SETUP = pytest.mark.parametrize(
    "cluster",
    [REDIS, DATABASE, REDIS_TWO_WORKERS],
    indirect=True,
    ids=["redis", "postgresql", "redis-workers-2"],
)
FAILED_SIGNIN_BUDGET = 5  # RATE_LIMIT_SIGNIN_FAILED's default, 5 per 15 minutes


@pytest.fixture(scope="module")
def cluster(request) -> Iterator[ServiceCluster]:
    """One cluster per setup, stopped before the next one starts."""
    store, workers = request.param
    options = ClusterOptions(
        redis=store == "redis",
        workers=workers,
        task_worker=False,
        environment={
            "RATE_LIMITS": "on",
            # Only the failure budget is under test: the per-address rates stay out of the way.
            "RATE_LIMIT_SIGNUP": "1000/h",
            "RATE_LIMIT_SIGNIN": "1000/15m",
        },
    )
    cluster = cluster_start(options)
    yield cluster
    cluster_finish(cluster)


def each_instance(cluster: ServiceCluster):
    """httpx clients straight to each instance, in turn, for ever."""
    clients = [httpx.Client(base_url=instance.url, timeout=15) for instance in cluster.instances]
    while True:
        yield from clients


def new_user(cluster: ServiceCluster, email: str) -> dict:
    response = httpx.post(
        f"{cluster.url}/api/auth/signup", json={"email": email, "password": PASSWORD}, timeout=15
    )
    assert response.status_code == 201, response.text
    return response.json()


@EVERY_SETUP
def test_failed_sign_ins_spread_over_the_instances_spend_one_budget(cluster, request):
    email = f"target-{request.node.callspec.id}@example.com"
    new_user(cluster, email)
    statuses, processes = [], set()
    clients = each_instance(cluster)
    for _ in range(3 * len(cluster.instances)):
        response = next(clients).post(
            "/api/auth/signin", json={"email": email, "password": "not the password"}
        )
        statuses.append(response.status_code)
        processes.add(response.headers["X-Worker-Pid"])
    assert statuses == [401] * FAILED_SIGNIN_BUDGET + [429] * (len(statuses) - FAILED_SIGNIN_BUDGET)
    assert len(processes) >= len(cluster.instances), "the attempts did not spread"
    # The right password is refused too while the budget is spent: nothing is hashed.
    right = next(clients).post("/api/auth/signin", json={"email": email, "password": PASSWORD})
    assert right.status_code == 429
    assert int(right.headers["Retry-After"]) >= 1


@EVERY_SETUP
def test_a_sign_out_on_one_instance_is_refused_at_once_on_the_others(cluster, request):
    first, *others = (
        httpx.Client(base_url=instance.url, timeout=15) for instance in cluster.instances
    )
    session = new_user(cluster, f"leaving-{request.node.callspec.id}@example.com")
    headers = {"Authorization": f"Bearer {session['access_token']}"}
    assert all(other.get("/api/auth/me", headers=headers).status_code == 200 for other in others)
    assert first.post("/api/auth/signout", headers=headers).status_code == 200
    for other in others:
        assert other.get("/api/auth/me", headers=headers).status_code == 401
        refreshed = other.post(
            "/api/auth/refresh", json={"refresh_token": session["refresh_token"]}
        )
        assert refreshed.status_code == 401


@pytest.mark.parametrize("cluster", [REDIS], indirect=True, ids=["redis"])
def test_redis_stopped_and_started_refuses_counted_requests_then_recovers(cluster):
    """Documented in docs/deployment-cluster.md: while Redis is away, what a throttle must count
    answers 503 with Retry-After, the rest is served, readiness stays 200; Redis back (without
    persistence), budgets start afresh."""
    assert cluster.redis is not None
    email = "weather@example.com"
    session = new_user(cluster, email)
    headers = {"Authorization": f"Bearer {session['access_token']}"}
    clients = [httpx.Client(base_url=instance.url, timeout=15) for instance in cluster.instances]
    cluster.redis.stop()
    for client in clients:
        refused = client.post("/api/auth/signin", json={"email": email, "password": PASSWORD})
        assert refused.status_code == 503
        assert refused.headers["Retry-After"] == "5"
        assert client.get("/api/auth/me", headers=headers).status_code == 200
        assert client.get("/health/ready").status_code == 200
    cluster.redis.start()
    deadline = time.monotonic() + 10
    statuses: list[int] = []
    for client in clients:
        while True:
            answer = client.post("/api/auth/signin", json={"email": email, "password": PASSWORD})
            statuses.append(answer.status_code)
            if answer.status_code == 200 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
    assert statuses[-len(clients) :] == [200] * len(clients), statuses
    assert "Traceback" not in cluster.logs()
