"""Answered requests reach the request metrics in batches, with the values one observation at a
time would have given."""

import asyncio

import pytest
from prometheus_client import CollectorRegistry, Counter, Histogram

from toolkit import metrics

DURATIONS = [0.0, 0.001, 0.005, 0.0050001, 0.3, 2.5, 9.99, 10.0, 11.0, 250.0]


def samples(metric) -> dict:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in metric.collect()
        for sample in family.samples
        if not sample.name.endswith("_created")
    }


def one_by_one() -> tuple[Counter, Histogram]:
    registry = CollectorRegistry()
    labels = ["route", "method", "status"]
    counter = Counter("accounts_http_requests", "", labels, registry=registry)
    histogram = Histogram(
        "accounts_http_request_duration_seconds",
        "",
        labels,
        buckets=metrics.HTTP_REQUEST_DURATION._upper_bounds[:-1],
        registry=registry,
    )
    return counter, histogram


def test_a_batch_writes_what_each_observation_would_have():
    before_counter = samples(metrics.HTTP_REQUESTS)
    before_histogram = samples(metrics.HTTP_REQUEST_DURATION)
    counter, histogram = one_by_one()
    batch = metrics.AnsweredRequests()
    for route, status in (("/batch/a", 200), ("/batch/b", 404)):
        for seconds in DURATIONS:
            batch.record(route, "GET", status, seconds)  # no running loop: written at once
            counter.labels(route, "GET", str(status)).inc()
            histogram.labels(route, "GET", str(status)).observe(seconds)
    grown_counter = {
        key: value - before_counter.get(key, 0)
        for key, value in samples(metrics.HTTP_REQUESTS).items()
        if any(label == ("route", r) for label in key[1] for r in ("/batch/a", "/batch/b"))
    }
    grown_histogram = {
        key: pytest.approx(value - before_histogram.get(key, 0))
        for key, value in samples(metrics.HTTP_REQUEST_DURATION).items()
        if any(label == ("route", r) for label in key[1] for r in ("/batch/a", "/batch/b"))
    }
    assert grown_counter == samples(counter)
    assert grown_histogram == samples(histogram)


async def test_requests_gather_on_the_event_loop_and_are_written_after_the_delay():
    batch = metrics.AnsweredRequests()
    child = metrics.HTTP_REQUESTS.labels("/batch/later", "GET", "200")
    before = child._value.get()
    for _ in range(3):
        batch.record("/batch/later", "GET", 200, 0.001)
    assert child._value.get() == before  # not yet
    await asyncio.sleep(metrics.REQUESTS_WRITE_DELAY * 3)
    assert child._value.get() == before + 3
    batch.record("/batch/later", "GET", 200, 0.001)
    batch.write()  # a scrape, or the worker stopping, writes at once
    assert child._value.get() == before + 4
    await asyncio.sleep(metrics.REQUESTS_WRITE_DELAY * 3)
    assert child._value.get() == before + 4  # the cancelled timer wrote nothing twice
