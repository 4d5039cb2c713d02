"""pytest plugin: choose the test database before Django reads its settings.

Order: TEST_DATABASE_URL; else a throwaway cluster started here (removed at the end); else
SQLite, said in the report header. With CI=true, PostgreSQL-only tests never skip: they fail.

`--through-pgbouncer` puts PgBouncer (deploy/pgbouncer.ini, transaction mode) between the run
and that throwaway cluster, as DB_POOLER=on: the suite's own connections, and the live servers
and manage.py commands it starts, all go through it.
"""

import os

import pytest

from tests.support.pgcluster import SUPERUSER, Cluster, ClusterUnavailable, start_cluster

state: dict[str, object] = {
    "cluster": None,
    "pgbouncer": None,
    "database": "",
    "fallback_reason": "",
}
# Through PgBouncer: server connections handed out in turn rather than the last one freed, so
# that one client's consecutive transactions land on different server connections, and any
# session state the service relied on would show.
PGBOUNCER_TEST_SETTINGS = {"server_round_robin": "1", "default_pool_size": "4"}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--through-pgbouncer",
        action="store_true",
        help="run against the throwaway PostgreSQL through PgBouncer in transaction mode",
    )


def running_in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config) -> None:
    os.environ.setdefault("ENVIRONMENT", "test")
    given = os.environ.get("TEST_DATABASE_URL", "")
    if given.startswith("sqlite"):
        state["database"] = "SQLite, as TEST_DATABASE_URL asks"
        state["fallback_reason"] = "TEST_DATABASE_URL is SQLite"
        return
    if given:
        state["database"] = "PostgreSQL from TEST_DATABASE_URL"
        return
    try:
        cluster = start_cluster()
    except ClusterUnavailable as error:
        state["fallback_reason"] = str(error)
        state["database"] = f"SQLite (no PostgreSQL: {error})"
        return
    state["cluster"] = cluster
    state["database"] = f"{cluster.version()}, throwaway cluster on port {cluster.port}, TLS on"
    os.environ["TEST_DATABASE_URL"] = cluster.url()
    if early_config.known_args_namespace.through_pgbouncer:
        pgbouncer_in_front(cluster)


def pgbouncer_in_front(cluster: Cluster) -> None:
    from tests.support.pgbouncer import PgBouncer, PgBouncerUnavailable

    bouncer = PgBouncer(
        server_port=cluster.port,
        user=SUPERUSER,
        password=cluster.password,
        databases=["*"],
        overrides=PGBOUNCER_TEST_SETTINGS,
    )
    try:
        bouncer.start()
    except PgBouncerUnavailable as error:
        cluster.remove()
        raise pytest.UsageError(f"--through-pgbouncer: {error}") from None
    state["pgbouncer"] = bouncer
    state["database"] = f"{state['database']}, through PgBouncer on port {bouncer.port}"
    os.environ["TEST_DATABASE_URL"] = bouncer.url("postgres")
    # What an operator sets for a pooler on a port other than 6432; live servers and manage.py
    # started by tests inherit it.
    os.environ["DB_POOLER"] = "on"


def pytest_report_header() -> str:
    return f"database: {state['database']}"


def pytest_unconfigure() -> None:
    bouncer = state["pgbouncer"]
    if bouncer is not None:
        bouncer.remove()  # type: ignore[attr-defined]
    cluster = state["cluster"]
    if isinstance(cluster, Cluster):
        cluster.remove()


def pytest_runtest_setup(item: pytest.Item) -> None:
    on_postgresql = os.environ.get("TEST_DATABASE_URL", "").startswith("postgres")
    if item.get_closest_marker("postgresql") and not on_postgresql:
        reason = f"needs PostgreSQL ({state['fallback_reason'] or 'none configured'})"
        if running_in_ci():
            pytest.fail(f"CI=true: {reason}; a PostgreSQL-only test may not be skipped")
        pytest.skip(reason)
