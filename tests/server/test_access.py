"""Each answered request's access line and metrics are recorded by a thread of the process, a
batch at a time; a scrape records what is queued at once, and so does every request once the
server is stopping."""

import logging
import threading
import time

import pytest

from server import access
from server.access import RequestHead, RequestRecorder
from toolkit import metrics
from toolkit.request_context import RequestContext


class Lines(logging.Handler):
    """The records a logger writes while attached (those of these tests' requests), with the
    thread that wrote each."""

    def __init__(self, prefix: str = "") -> None:
        super().__init__()
        self.prefix = prefix
        self.records: list[tuple[str, logging.LogRecord]] = []

    def emit(self, record: logging.LogRecord) -> None:
        if (getattr(record, "request_id", None) or "").startswith(self.prefix):
            self.records.append((threading.current_thread().name, record))


@pytest.fixture
def access_lines():
    access.answered_requests_record_now()  # the in-process application's, from other tests
    handler = Lines(prefix=REQUEST_ID_PREFIX)
    logger = logging.getLogger("project.access")
    level = logger.level
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


@pytest.fixture
def recorder(settings):
    settings.METRICS_TOKEN = "a-metrics-token-for-the-recorder-tests"
    made = RequestRecorder()
    yield made
    made.batches.stop()


REQUEST_ID_PREFIX = "recorded-"


def answer(recorder: RequestRecorder, route: str, request_id: str, status: int = 200) -> None:
    scope = {
        "type": "http",
        "method": "GET",
        "path": route,
        "headers": [],
        "client": ("192.0.2.7", 50000),
    }
    context = RequestContext(REQUEST_ID_PREFIX + request_id, "GET", route=route, status=status)
    recorder.finished(scope, RequestHead(scope), context, time.perf_counter() - 0.002)


def counted(route: str, status: str = "200") -> float:
    return metrics.HTTP_REQUESTS.labels(route, "GET", status)._value.get()


def test_answered_requests_are_recorded_by_the_recorders_thread(recorder, access_lines):
    before = counted("/recorded/later")
    for number in range(3):
        answer(recorder, "/recorded/later", f"later-{number}")
    deadline = time.monotonic() + 5
    while counted("/recorded/later") < before + 3:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert [record.request_id for _, record in access_lines.records] == [
        "recorded-later-0",
        "recorded-later-1",
        "recorded-later-2",
    ]
    assert {thread for thread, _ in access_lines.records} == {"request-recorder"}


def test_an_access_line_says_when_its_answer_ended_not_when_it_was_recorded(recorder, access_lines):
    with access.recording:  # the recorder's thread waits: the line is recorded later
        answer(recorder, "/recorded/timed", "timed")
        ended = time.time()
        time.sleep(0.3)
    recorder.record_now()
    [(_, record)] = access_lines.records
    assert abs(record.created - ended) < 0.05
    assert record.msecs == int(record.created * 1000) % 1000
    assert record.client_ip == "192.0.2.7"
    assert record.duration_ms >= 2


def test_a_scrape_records_what_is_queued_at_once(recorder, access_lines):
    recorder.batches.delay = 60  # the recorder's thread would record it a minute later
    before = counted("/recorded/scraped")
    answer(recorder, "/recorded/scraped", "scraped")
    access.answered_requests_record_now()
    assert counted("/recorded/scraped") == before + 1
    assert [thread for thread, _ in access_lines.records] == [threading.current_thread().name]


async def test_once_stopped_each_request_is_recorded_as_it_ends(recorder, access_lines):
    await recorder.stop()  # the lifespan's shutdown
    before = counted("/recorded/stopped")
    answer(recorder, "/recorded/stopped", "cut-short")  # a request cut short, ending later
    assert counted("/recorded/stopped") == before + 1
    assert recorder.batches.thread is None


def test_a_full_queue_drops_what_it_cannot_hold_and_says_how_many(
    monkeypatch, recorder, access_lines
):
    monkeypatch.setattr(access, "RECORD_QUEUE_SIZE", 5)
    small = RequestRecorder()
    warnings = Lines()
    server_log = logging.getLogger("project.server")
    server_log.addHandler(warnings)
    try:
        with access.recording:  # the recorder's thread is stuck on its first batch meanwhile
            for number in range(40):
                answer(small, "/recorded/full", f"full-{number}")
            time.sleep(access.RECORD_DELAY * 3)
        small.batches.stop()
    finally:
        server_log.removeHandler(warnings)
    recorded = [record.request_id for _, record in access_lines.records]
    # The first few taken by the thread's first batch, five queued: the rest dropped and counted.
    assert 5 <= len(recorded) <= 10
    assert recorded == [f"recorded-full-{number}" for number in range(len(recorded))]
    [(_, notice)] = [(t, r) for t, r in warnings.records if r.levelno == logging.WARNING]
    assert notice.getMessage().startswith(f"{40 - len(recorded)} answered requests not recorded")


def test_nothing_is_queued_when_neither_metrics_nor_the_access_log_want_it(settings):
    settings.METRICS_TOKEN = ""
    quiet = RequestRecorder()
    logger = logging.getLogger("project.access")
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        answer(quiet, "/recorded/nowhere", "nowhere")
        assert not quiet.batches.items
        assert quiet.batches.thread is None
    finally:
        logger.setLevel(level)
