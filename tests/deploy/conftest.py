"""Clusters for the deployment tests: started from deploy/'s configurations, removed after."""

import os
from collections.abc import Callable, Iterator

import pytest

from tests.conftest import missing_tool
from tests.support.cluster import ClusterOptions, ServiceCluster
from tests.support.haproxy import HAProxyUnavailable
from tests.support.pgbouncer import PgBouncerUnavailable
from tests.support.pgcluster import ClusterUnavailable
from tests.support.redis import RedisUnavailable

UNAVAILABLE = (ClusterUnavailable, HAProxyUnavailable, PgBouncerUnavailable, RedisUnavailable)


def cluster_start(options: ClusterOptions) -> ServiceCluster:
    """A running cluster in a directory of its own under /tmp (PgBouncer, run as the postgres
    user, cannot reach pytest's own temporary directories); a missing program skips the test,
    and fails it under CI=true."""
    cluster = ServiceCluster(options)
    try:
        return cluster.start()
    except UNAVAILABLE as error:
        cluster.remove()
        missing_tool(str(error))
        raise


def cluster_finish(cluster: ServiceCluster) -> None:
    """Stop everything; KEEP_CLUSTER_LOGS=1 keeps the logs for a look afterwards."""
    if os.environ.get("KEEP_CLUSTER_LOGS"):
        cluster.stop()
        print(f"\ncluster logs kept in {cluster.directory}")
    else:
        cluster.remove()


@pytest.fixture(scope="module")
def cluster_factory() -> Iterator[Callable[..., ServiceCluster]]:
    """Start clusters that live until the end of the module (a start costs ten seconds or so)."""
    clusters: list[ServiceCluster] = []

    def start(**options: object) -> ServiceCluster:
        cluster = cluster_start(ClusterOptions(**options))  # type: ignore[arg-type]
        clusters.append(cluster)
        return cluster

    yield start
    for cluster in clusters:
        cluster_finish(cluster)
