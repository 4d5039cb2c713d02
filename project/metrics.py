"""`GET /metrics` for Prometheus, and the per-worker chores behind it: sampling the database pool,
forgetting the gauges of stopped workers.

Off unless METRICS_TOKEN is set (then `/metrics` is a 404 like any unknown path); with it, only
`Authorization: Bearer <METRICS_TOKEN>` gets the exposition (401 otherwise). The metrics
themselves are defined in toolkit.metrics, where the apps record them.
"""

import asyncio
import contextlib
import hashlib
import hmac
import logging
import os
import re
import threading
from pathlib import Path
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from prometheus_client import multiprocess

from server.access import answered_requests_record_now
from toolkit import metrics
from toolkit.http import json_error

logger = logging.getLogger("project.metrics")
# Seconds between two samples of this worker's database pool (a scrape also takes one).
POOL_SAMPLE_SECONDS = 5.0
LIVE_GAUGE_FILE = re.compile(r"gauge_live\w+?_(\d+)\.db")


class PoolSampler:
    """psycopg_pool's `get_stats()` of this process's pool into the metrics: its measures as
    gauges, its counters as the growth since the previous sample (never `pop_stats()`, which
    would reset them for anyone else reading)."""

    def __init__(self) -> None:
        self.last: dict[str, int] = {}
        # The sampling task and a scrape may sample at once, from two threads.
        self.lock = threading.Lock()

    def sample(self) -> None:
        pool = getattr(connections[DEFAULT_DB_ALIAS], "pool", None)  # None: SQLite, no pool
        if pool is None:
            return
        with self.lock:
            self.record(pool.get_stats())

    def record(self, stats: dict[str, int]) -> None:
        metrics.DB_POOL_SIZE.set(stats.get("pool_size", 0))
        metrics.DB_POOL_AVAILABLE.set(stats.get("pool_available", 0))
        metrics.DB_POOL_MAX.set(stats.get("pool_max", 0))
        metrics.DB_POOL_WAITING.set(stats.get("requests_waiting", 0))
        for key, counter in metrics.DB_POOL_COUNTERS.items():
            grown = self.growth(stats, key)
            if grown:
                counter.inc(grown)
        waited_ms = self.growth(stats, "requests_wait_ms")
        if waited_ms:
            metrics.DB_POOL_WAIT_SECONDS.inc(waited_ms / 1000)

    def growth(self, stats: dict[str, int], key: str) -> int:
        value = stats.get(key, 0)
        previous = self.last.get(key, 0)
        self.last[key] = value
        # Smaller than before: a new pool (closed and made again); count it from zero.
        return value - previous if value >= previous else value


pool_sampler = PoolSampler()


async def sample_forever() -> None:
    while True:
        await asyncio.sleep(POOL_SAMPLE_SECONDS)
        try:
            await sync_to_async(pool_sampler.sample, thread_sensitive=False)()
        except Exception:  # a metric must never take the worker down
            logger.exception("Sampling the database pool failed")


def dead_workers_forget(directory: str) -> None:
    """Drop the pool gauges of worker processes that are gone (killed, not stopped: a stopped
    worker forgets its own), so that `livesum` adds up live workers only."""
    if not directory or not metrics.multiprocess_mode():
        return
    for path in Path(directory).glob("gauge_live*.db"):
        found = LIVE_GAUGE_FILE.fullmatch(path.name)
        if found is None:
            continue
        pid = int(found.group(1))
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]
        except PermissionError:
            pass  # alive, someone else's


class WorkerChores:
    """This worker's share of the metrics, started and stopped by the lifespan (registered by
    project.lifespan): forgetting dead workers' gauges, sampling the pool, leaving when done."""

    def __init__(self, directory: str) -> None:
        # Where the workers keep their values together, "" when in this process's memory.
        self.directory = directory
        self.sampler_task: asyncio.Task[None] | None = None

    async def started(self) -> None:
        if metrics.multiprocess_mode():
            logger.info("Metrics: values kept in %s", self.directory)
        await sync_to_async(dead_workers_forget, thread_sensitive=False)(self.directory)
        self.sampler_task = asyncio.get_running_loop().create_task(sample_forever())

    async def stopping(self) -> None:
        task, self.sampler_task = self.sampler_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if metrics.multiprocess_mode():
            multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]


def bearer_matches(request: HttpRequest, token: str) -> bool:
    scheme, _, supplied = request.headers.get("Authorization", "").partition(" ")
    # Constant time: how much of the token a guess got right, or how long the token is, must
    # not show in the timing (digests of equal length, compared in constant time).
    return scheme.lower() == "bearer" and hmac.compare_digest(
        hashlib.sha256(supplied.strip().encode()).digest(),
        hashlib.sha256(token.encode()).digest(),
    )


def exposition_with_fresh_pool_sample() -> tuple[bytes, str]:
    # This worker's latest answered requests first: its client may have had an answer a moment ago.
    answered_requests_record_now()
    try:
        pool_sampler.sample()
    except Exception:
        logger.exception("Sampling the database pool failed")
    return metrics.exposition()


@csrf_exempt  # no cookies, no form: a bearer token only
async def metrics_view(request: HttpRequest) -> Any:
    token: str = settings.METRICS_TOKEN
    if not token:
        raise Http404  # the same JSON 404 as any unknown path
    if request.method not in ("GET", "HEAD"):
        return json_error(405, headers={"Allow": "GET, HEAD"})
    if not bearer_matches(request, token):
        return json_error(401, "Not authenticated", headers={"WWW-Authenticate": "Bearer"})
    # Reads every worker's files in multiprocess mode: off the event loop.
    body, content_type = await sync_to_async(
        exposition_with_fresh_pool_sample, thread_sensitive=False
    )()
    response = HttpResponse(body, content_type=content_type)
    response["Cache-Control"] = "no-store"
    return response
