"""pytest plugin: choose the test database before Django reads its settings.

Order: TEST_DATABASE_URL; else a throwaway cluster started here (removed at the end); else
SQLite, said in the report header. With CI=true, PostgreSQL-only tests never skip: they fail.
"""

import os

import pytest

from tests.support.pgcluster import Cluster, ClusterUnavailable, start_cluster

state: dict[str, object] = {"cluster": None, "database": "", "fallback_reason": ""}


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


def pytest_report_header() -> str:
    return f"database: {state['database']}"


def pytest_unconfigure() -> None:
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
