"""The service's Prometheus metrics (prometheus-client), every name starting `accounts_`.

Apps record here without knowing how metrics are served (project.metrics serves `/metrics`).
With several worker processes, prometheus-client's multiprocess mode keeps each value in a
memory-mapped file under PROMETHEUS_MULTIPROC_DIR, which must be set before this module is first
imported: `python -m server.serve` makes (and removes) that directory, and each worker of plain
`uvicorn --workers N` names the one they share (server.metrics_directory). Without it (one
process, the tests in process), values live in this process's memory.

Gauges of a pool (hashing, database connections) add up over live processes (`livesum`):
project.metrics forgets a worker's gauges when it stops, and those of workers that died.
"""

import logging
import os
from bisect import bisect_left

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    values,
)
from prometheus_client.multiprocess import MultiProcessCollector

# In multiprocess mode each increment asks os.getpid() (a system call) to notice a fork; this
# process's id, cached and refreshed in a forked child, answers the same for a fraction of it.
process_id = os.getpid()


def process_id_refresh() -> None:
    global process_id
    process_id = os.getpid()


os.register_at_fork(after_in_child=process_id_refresh)
if values.ValueClass is not values.MutexValue:
    values.ValueClass = values.MultiProcessValue(process_identifier=lambda: process_id)  # type: ignore[no-untyped-call]

logger = logging.getLogger(__name__)

# Our metrics only (no process_* or python_* collectors): every exposed name starts `accounts_`,
# and in multiprocess mode the default collectors would describe one random worker anyway.
REGISTRY = CollectorRegistry()

HTTP_REQUESTS = Counter(
    "accounts_http_requests",
    "HTTP requests answered, by route template, method and status.",
    ["route", "method", "status"],
    registry=REGISTRY,
)
HTTP_REQUEST_DURATION = Histogram(
    "accounts_http_request_duration_seconds",
    "Time from the request reaching the application to the end of its answer.",
    ["route", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
    registry=REGISTRY,
)


class AnsweredRequests:
    """HTTP_REQUESTS and HTTP_REQUEST_DURATION for many requests at once: gathered per route,
    method and status in plain numbers by `record`, then written by `write`. In multiprocess mode
    each write is a locked write to a memory-mapped file, three per request when made one by one
    (the counter, the histogram's sum and its bucket): most of what metrics cost a request.
    server.access records a batch of answered requests, then writes, off the event loop; its
    callers never record or write at the same time."""

    def __init__(self) -> None:
        # The histogram's bucket bounds, the last one +Inf.
        self.bounds: tuple[float, ...] = tuple(HTTP_REQUEST_DURATION._upper_bounds)
        # Per (route, method, status): the durations' sum, then the count of each bucket.
        self.pending: dict[tuple[str, str, int], list[float]] = {}

    def record(self, route: str, method: str, status: int, seconds: float) -> None:
        key = (route, method, status)
        counts = self.pending.get(key)
        if counts is None:
            counts = self.pending[key] = [0.0] * (len(self.bounds) + 1)
        counts[0] += seconds
        # The first bucket whose bound is at least the duration, as Histogram.observe finds it.
        counts[1 + bisect_left(self.bounds, seconds)] += 1

    def write(self) -> None:
        """Write what gathered; never raises (a failed write is logged, the rest written)."""
        pending, self.pending = self.pending, {}
        for (route, method, status), counts in pending.items():
            labels = (route, method, str(status))
            try:
                histogram = HTTP_REQUEST_DURATION.labels(*labels)
                HTTP_REQUESTS.labels(*labels).inc(sum(counts[1:]))
                # Histogram.observe's own writes, for many observations at once.
                histogram._sum.inc(counts[0])
                for bucket, count in zip(histogram._buckets, counts[1:], strict=True):
                    if count:
                        bucket.inc(count)
            except Exception:
                logger.exception("Writing the request metrics failed")


answered_requests = AnsweredRequests()

PASSWORD_HASHING_IN_USE = Gauge(
    "accounts_password_hashing_in_use",
    "Password hashes running now (HASHER_CONCURRENCY bounds them per process).",
    multiprocess_mode="livesum",
    registry=REGISTRY,
)
PASSWORD_HASHING_QUEUED = Gauge(
    "accounts_password_hashing_queued",
    "Password hashes waiting for a hashing thread (HASHER_QUEUE bounds them per process).",
    multiprocess_mode="livesum",
    registry=REGISTRY,
)
PASSWORD_HASHING_SHED = Counter(
    "accounts_password_hashing_shed",
    "Requests refused with 503 because the hashing pool and its queue were full.",
    registry=REGISTRY,
)

THROTTLE_REFUSALS = Counter(
    "accounts_throttle_refusals",
    "Requests refused with 429, by throttle scope.",
    ["scope"],
    registry=REGISTRY,
)

BREACHED_PASSWORD_CHECKS = Counter(
    "accounts_breached_password_checks",
    "New passwords looked up in the breached-password range API (PWNED_PASSWORDS), by result: "
    "breached, clean, or unavailable (the API down or too slow: accepted unchecked).",
    ["result"],
    registry=REGISTRY,
)

SESSIONS_ISSUED = Counter(
    "accounts_sessions_issued",
    "Sessions opened (sign-up, sign-in, password change).",
    registry=REGISTRY,
)
SESSIONS_REVOKED = Counter(
    "accounts_sessions_revoked",
    "Sessions revoked before they expired, by reason.",
    ["reason"],
    registry=REGISTRY,
)

READINESS_CHECKS = Counter(
    "accounts_readiness_checks",
    "Readiness check results (/health/ready, start-up, manage.py healthcheck), by check.",
    ["check", "status"],
    registry=REGISTRY,
)

# psycopg_pool's get_stats(), per process, sampled (project.metrics): gauges for its measures...
DB_POOL_SIZE = Gauge(
    "accounts_db_pool_connections",
    "Connections the database pools hold, open and idle together.",
    multiprocess_mode="livesum",
    registry=REGISTRY,
)
DB_POOL_AVAILABLE = Gauge(
    "accounts_db_pool_connections_idle",
    "Connections idle in the database pools, ready to lend.",
    multiprocess_mode="livesum",
    registry=REGISTRY,
)
DB_POOL_MAX = Gauge(
    "accounts_db_pool_connections_max",
    "The most connections the database pools may open (DB_POOL_MAX_SIZE per process).",
    multiprocess_mode="livesum",
    registry=REGISTRY,
)
DB_POOL_WAITING = Gauge(
    "accounts_db_pool_requests_waiting",
    "Requests waiting for a pooled connection now.",
    multiprocess_mode="livesum",
    registry=REGISTRY,
)
# ... and counters for its counters (what grew since the last sample).
DB_POOL_COUNTERS = {
    "requests_num": Counter(
        "accounts_db_pool_requests",
        "Connections lent by the database pools.",
        registry=REGISTRY,
    ),
    "requests_queued": Counter(
        "accounts_db_pool_requests_queued",
        "Connection requests that had to wait for one to be free.",
        registry=REGISTRY,
    ),
    "requests_errors": Counter(
        "accounts_db_pool_requests_errors",
        "Connection requests that failed (no connection within DB_POOL_TIMEOUT).",
        registry=REGISTRY,
    ),
    "connections_errors": Counter(
        "accounts_db_pool_connection_errors",
        "Failed attempts to open a connection to the database.",
        registry=REGISTRY,
    ),
    "connections_lost": Counter(
        "accounts_db_pool_connections_lost",
        "Pooled connections found broken and discarded.",
        registry=REGISTRY,
    ),
}
# Milliseconds in psycopg_pool, seconds here (Prometheus' base unit).
DB_POOL_WAIT_SECONDS = Counter(
    "accounts_db_pool_requests_wait_seconds",
    "Time connection requests spent waiting for a connection.",
    registry=REGISTRY,
)


def multiprocess_mode() -> bool:
    """Whether values live in PROMETHEUS_MULTIPROC_DIR's files, as the client decided when it
    was imported (not what the environment says now)."""
    return values.ValueClass is not values.MutexValue


def exposition() -> tuple[bytes, str]:
    """Every metric in the Prometheus text format, added up over all worker processes when
    they share a multiprocess directory; reads files, so call it off the event loop."""
    if multiprocess_mode():
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
