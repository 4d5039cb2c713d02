"""Django's request signals keep their contract on whichever handler serves (the fast path's or
Django's own): sync and async receivers of request_started and request_finished run once per
request, and the request still answers."""

import asyncio
import threading

import pytest
from django.core import signals

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def received():
    calls: list[tuple[str, str]] = []

    def sync_started(sender, **kwargs):
        calls.append(("started", "sync"))

    async def async_started(sender, **kwargs):
        await asyncio.sleep(0)
        calls.append(("started", "async"))

    def sync_finished(sender, **kwargs):
        calls.append(("finished", "sync"))

    async def async_finished(sender, **kwargs):
        await asyncio.sleep(0)
        calls.append(("finished", "async"))

    receivers = [
        (signals.request_started, sync_started),
        (signals.request_started, async_started),
        (signals.request_finished, sync_finished),
        (signals.request_finished, async_finished),
    ]
    for signal, receiver in receivers:
        signal.connect(receiver)
    yield calls
    for signal, receiver in receivers:
        signal.disconnect(receiver)


@pytest.mark.parametrize("path", ["/health", "/api/auth/me", "/no/such/page"])
async def test_sync_and_async_receivers_of_both_signals_run_once(api, received, path):
    response = await api.get(path)
    assert response.status_code in (200, 401, 404)
    assert sorted(received) == [
        ("finished", "async"),
        ("finished", "sync"),
        ("started", "async"),
        ("started", "sync"),
    ]


async def test_a_sync_receiver_runs_off_the_event_loop(api):
    loop_thread = threading.get_ident()
    threads: list[int] = []

    def receiver(sender, **kwargs):
        threads.append(threading.get_ident())

    signals.request_started.connect(receiver)
    signals.request_finished.connect(receiver)
    try:
        assert (await api.get("/health")).status_code == 200
    finally:
        signals.request_started.disconnect(receiver)
        signals.request_finished.disconnect(receiver)
    assert len(threads) == 2
    assert loop_thread not in threads  # a receiver doing I/O must not block the event loop
