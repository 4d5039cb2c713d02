"""Answered requests reach the request metrics in batches, with the values one observation at a
time would have given."""

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


async def test_a_batch_writes_what_each_observation_would_have():
    before_counter = samples(metrics.HTTP_REQUESTS)
    before_histogram = samples(metrics.HTTP_REQUEST_DURATION)
    counter, histogram = one_by_one()
    batch = metrics.AnsweredRequests()
    for route, status in (("/batch/a", 200), ("/batch/b", 404)):
        for seconds in DURATIONS * 3:  # several per bucket, gathered in one batch
            batch.record(route, "GET", status, seconds)
            counter.labels(route, "GET", str(status)).inc()
            histogram.labels(route, "GET", str(status)).observe(seconds)
    batch.write()
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


async def test_a_failed_write_is_logged_and_the_other_routes_written(monkeypatch, caplog):
    batch = metrics.AnsweredRequests()
    ok = metrics.HTTP_REQUESTS.labels("/batch/ok", "GET", "200")
    before = ok._value.get()
    batch.record("/batch/broken", "GET", 200, 0.001)
    batch.record("/batch/ok", "GET", 200, 0.001)
    real_labels = metrics.HTTP_REQUEST_DURATION.labels

    def broken(*labels):
        if labels[0] == "/batch/broken":
            raise OSError("No space left on device")
        return real_labels(*labels)

    monkeypatch.setattr(metrics.HTTP_REQUEST_DURATION, "labels", broken)
    batch.write()
    assert ok._value.get() == before + 1
    assert "Writing the request metrics failed" in caplog.text
