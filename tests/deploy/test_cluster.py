"""Three instances behind HAProxy, PgBouncer in transaction mode, Redis, the task worker: the
deployment files' configurations, run as an operator would, under load. Each test counts what
the clients saw and what the database holds afterwards."""

import time

import psycopg
import pytest

from tests.support.cluster import DATABASE, ServiceCluster
from tests.support.haproxy import DEPLOY_CONFIG as HAPROXY_EXAMPLE
from tests.support.load import Load, Outcome, signed_up, summary
from tests.support.pgbouncer import DEPLOY_CONFIG as PGBOUNCER_EXAMPLE
from tests.support.pgbouncer import settings_of

pytestmark = [pytest.mark.slow, pytest.mark.cluster]


@pytest.fixture(scope="module")
def cluster(cluster_factory) -> ServiceCluster:
    return cluster_factory()


def all_up(cluster: ServiceCluster) -> None:
    assert cluster.haproxy is not None
    cluster.haproxy.wait_for_states({instance.name: "UP" for instance in cluster.instances})


def failures(outcomes: list[Outcome]) -> list[Outcome]:
    return [outcome for outcome in outcomes if not outcome.ok]


def test_the_configurations_run_are_the_deploy_examples(cluster):
    """Only addresses differ from deploy/: what the tests prove is what the docs recommend."""
    assert cluster.haproxy is not None and cluster.pgbouncer is not None
    addresses = ("bind ", "server ", "stats socket ")

    def kept(text: str) -> list[str]:
        return [line for line in text.splitlines() if not line.strip().startswith(addresses)]

    assert kept(cluster.haproxy.config()) == kept(HAPROXY_EXAMPLE.read_text())
    example = settings_of(PGBOUNCER_EXAMPLE.read_text())
    running = settings_of(cluster.pgbouncer.config())
    moved = {"listen_addr", "listen_port", "auth_file"}
    assert {k: v for k, v in running.items() if k not in moved} == {
        k: v for k, v in example.items() if k not in moved
    }
    assert running["pool_mode"] == "transaction"


def test_pgbouncer_really_pools_by_transaction(cluster):
    """One client's statements run on whichever server connection is free: nothing of a
    session survives its transaction, and the service works regardless (the other tests). In
    session mode the first client would keep one backend throughout."""
    assert cluster.pgbouncer is not None
    url = cluster.pgbouncer.url(DATABASE)
    backends = set()
    # psycopg's default prepares a statement server-side on its fifth run, which transaction
    # pooling breaks ("prepared statement does not exist"); Django's backend never does.
    with (
        psycopg.connect(url, autocommit=True, prepare_threshold=None) as first,
        psycopg.connect(url, prepare_threshold=None) as second,
    ):
        for _ in range(5):
            backends.add(first.execute("SELECT pg_backend_pid()").fetchone())
            # The second client's open transaction holds a server connection, most likely the
            # one the first client's statement has just given back.
            held = second.execute("SELECT pg_backend_pid()").fetchone()
            meanwhile = first.execute("SELECT pg_backend_pid()").fetchone()
            assert meanwhile != held
            backends.add(meanwhile)
            second.rollback()
    assert len(backends) >= 2


def test_rolling_restart_under_load_fails_no_request(cluster):
    all_up(cluster)
    assert cluster.haproxy is not None
    load = Load(cluster.url, clients=4, prefix="rolling").start()
    time.sleep(2)
    for instance in cluster.instances:
        instance.stop()  # SIGTERM: it drains what it holds and exits
        cluster.haproxy.wait_for_states({instance.name: "DOWN"})
        instance.start().wait_ready()
        cluster.haproxy.wait_for_states({instance.name: "UP"})
    time.sleep(2)
    outcomes = load.stop()
    print(f"\nrolling restart: {summary(outcomes)}")
    assert not failures(outcomes), f"{failures(outcomes)[:5]}\n{cluster.logs()}"
    assert len(signed_up(outcomes)) > 10
    assert signed_up(outcomes) <= cluster.emails()


def test_a_killed_instance_fails_only_the_requests_it_held(cluster):
    all_up(cluster)
    assert cluster.haproxy is not None
    victim = cluster.instances[1]
    load = Load(cluster.url, clients=4, prefix="killed").start()
    time.sleep(2)
    killed_at = time.monotonic()
    victim.kill()
    noticed_at = cluster.haproxy.wait_for_states({victim.name: "DOWN"})
    time.sleep(2)
    outcomes = load.stop()
    print(f"\nSIGKILL: {summary(outcomes)}; noticed after {noticed_at - killed_at:.2f} s")
    failed = failures(outcomes)
    # Only what it held or was handed while dying: requests that overlapped its death and
    # began before HAProxy noticed; none after. A read is retried elsewhere; a write is not
    # (HAProxy answers 502, or closes the connection as a server would), so at most one or
    # two per client.
    assert all(o.ended >= killed_at and o.started <= noticed_at for o in failed), failed
    assert all(o.status in (0, 502) for o in failed), failed
    assert len(failed) <= 2 * load.clients, failed
    after = [o for o in outcomes if o.started > noticed_at]
    assert after and all(o.ok for o in after)
    assert signed_up(outcomes) <= cluster.emails()
    victim.start().wait_ready()
    all_up(cluster)


def test_a_pgbouncer_restart_is_survived_without_restarting_anything(cluster):
    all_up(cluster)
    assert cluster.pgbouncer is not None
    processes = {instance.name: instance.process for instance in cluster.instances}
    load = Load(cluster.url, clients=4, prefix="pooler").start()
    time.sleep(2)
    stopped_at = time.monotonic()
    cluster.pgbouncer.stop()
    time.sleep(3)
    restarted_at = time.monotonic()
    cluster.pgbouncer.start()
    served_again_at = wait_for_a_sign_up_after(load, restarted_at, timeout=30)
    time.sleep(2)
    outcomes = load.stop()
    print(
        f"\nPgBouncer away {restarted_at - stopped_at:.1f} s, a sign-up served again "
        f"{served_again_at - restarted_at:.2f} s after its return: {summary(outcomes)}"
    )
    failed = failures(outcomes)
    assert failed, "PgBouncer was away and nobody noticed"
    # Refused while it was away, telling clients when to come back; nothing else went wrong.
    assert not [o for o in failed if not (o.status == 503 and o.retry_after)], cluster.logs()
    assert all(stopped_at - 1 <= o.started and o.ended <= served_again_at + 5 for o in failed)
    assert served_again_at - restarted_at < 15
    assert {i.name: i.process for i in cluster.instances} == processes
    assert all(process and process.running() for process in processes.values())
    # The task worker waited the outage out too.
    assert cluster.task_worker is not None and cluster.task_worker.running()
    assert signed_up(outcomes) <= cluster.emails()
    all_up(cluster)


def wait_for_a_sign_up_after(load: Load, moment: float, timeout: float) -> float:
    """When a sign-up started after `moment` was first answered 201."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        answered = [o.ended for o in list(load.outcomes) if o.step == "signup" and o.status == 201]
        later = [ended for ended in answered if ended > moment]
        if later:
            return min(later)
        time.sleep(0.1)
    raise AssertionError(f"no sign-up served within {timeout} s: {summary(load.outcomes)}")


def test_the_worker_and_manage_py_work_through_pgbouncer(cluster):
    """Sign-ups under load enqueued verification emails: the worker sent them through PgBouncer;
    manage.py's commands run through it too."""
    deadline = time.monotonic() + 30
    pending = -1
    while time.monotonic() < deadline:
        pending = cluster.query(
            "SELECT count(*) FROM django_tasks_database_dbtaskresult WHERE status <> 'SUCCESSFUL'"
        )[0][0]
        if pending == 0:
            break
        time.sleep(0.5)
    done = cluster.query(
        "SELECT count(*) FROM django_tasks_database_dbtaskresult WHERE status = 'SUCCESSFUL'"
    )[0][0]
    unfinished = cluster.query(
        "SELECT status, count(*) FROM django_tasks_database_dbtaskresult"
        " WHERE status <> 'SUCCESSFUL' GROUP BY status"
    )
    assert pending == 0 and done > 10, f"{unfinished}\n{cluster.logs()}"
    for command in (["purge"], ["healthcheck"], ["check", "--database", "default"]):
        cluster.manage(*command)
