"""The PostgreSQL primary crashes and its synchronous standby is promoted, under load: with
DATABASE_URL listing both hosts (target_session_attrs=read-write) the instances find the new
primary by themselves, nothing is restarted, readiness says 503 in between, and every sign-up
answered 201 is on the new primary."""

import time
from collections.abc import Iterator

import httpx
import psycopg
import pytest

from tests.conftest import missing_tool
from tests.deploy.conftest import cluster_finish, cluster_start
from tests.support.cluster import DATABASE, ClusterOptions, ServiceCluster
from tests.support.load import Load, signed_up, summary
from tests.support.pgcluster import Cluster, ClusterUnavailable
from tests.support.standby import failover_url, kill_immediately, promote, start_replicated_pair

pytestmark = [pytest.mark.slow, pytest.mark.cluster]


@pytest.fixture(scope="module")
def replicated() -> Iterator[tuple[Cluster, Cluster]]:
    try:
        primary, standby = start_replicated_pair()
    except ClusterUnavailable as error:
        missing_tool(f"a PostgreSQL primary and standby ({error})")
        raise
    try:
        with psycopg.connect(primary.url(), autocommit=True) as connection:
            connection.execute(f"CREATE DATABASE {DATABASE}")
            connection.execute(f"ALTER DATABASE {DATABASE} SET timezone = 'UTC'")
        yield primary, standby
    finally:
        standby.remove()
        primary.remove()


@pytest.fixture(scope="module")
def cluster(replicated) -> Iterator[ServiceCluster]:
    primary, standby = replicated
    options = ClusterOptions(
        database_url=failover_url(primary, standby, DATABASE),
        pgbouncer=False,
        redis=False,
        environment={"DB_POOL_TIMEOUT": "2", "DB_CONNECT_TIMEOUT": "2"},
    )
    cluster = cluster_start(options)
    yield cluster
    cluster_finish(cluster)


def test_a_crashed_primary_is_replaced_by_its_standby_without_a_restart(cluster, replicated):
    primary, standby = replicated
    processes = [instance.process for instance in cluster.instances]
    load = Load(cluster.url, clients=4, prefix="failover").start()
    time.sleep(2)
    crashed_at = time.monotonic()
    kill_immediately(primary)
    time.sleep(1)
    # Meanwhile: no primary anywhere, and every instance says so.
    readiness = [httpx.get(f"{i.url}/health/ready", timeout=10) for i in cluster.instances]
    promote(standby)
    promoted_at = time.monotonic()
    served_again_at = sign_up_served_after(load, promoted_at, timeout=30)
    time.sleep(2)
    outcomes = load.stop()
    print(
        f"\nfailover: writes served again {served_again_at - promoted_at:.2f} s after the "
        f"promotion ({served_again_at - crashed_at:.2f} s after the crash): {summary(outcomes)}"
    )
    assert [answer.status_code for answer in readiness] == [503] * len(cluster.instances)
    assert all(answer.headers["Retry-After"] for answer in readiness)
    before = [o for o in outcomes if o.ended < crashed_at]
    assert before and all(o.ok for o in before)
    failed = [o for o in outcomes if not o.ok]
    assert all(o.status == 503 and o.retry_after for o in failed), failed[:5]
    assert all(o.ended >= crashed_at and o.started <= served_again_at + 5 for o in failed)
    assert served_again_at - promoted_at < 20
    assert [instance.process for instance in cluster.instances] == processes
    assert all(process and process.running() for process in processes)
    # Synchronous replication: nothing answered 201 was lost, before or after the crash.
    on_new_primary = cluster.emails()
    assert signed_up(outcomes) <= on_new_primary
    assert {o.email for o in before if o.step == "signup"} <= on_new_primary
    with psycopg.connect(standby.url(DATABASE)) as connection:
        assert connection.execute("SELECT pg_is_in_recovery()").fetchone() == (False,)


def sign_up_served_after(load: Load, moment: float, timeout: float) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        later = [
            o.ended
            for o in list(load.outcomes)
            if o.step == "signup" and o.status == 201 and o.started > moment
        ]
        if later:
            return min(later)
        time.sleep(0.1)
    raise AssertionError(f"no sign-up served within {timeout} s: {summary(load.outcomes)}")
