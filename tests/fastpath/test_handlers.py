"""WarmThreadASGIHandler: one thread per request in flight, reused afterwards, connections
handed back to the pool after every piece of work, disconnects, Content-Length."""

import asyncio
import time
from collections.abc import MutableMapping
from typing import Any

import pytest
from django.conf import settings
from django.db import connections

from fastpath.handlers import WarmThreadASGIHandler
from tests.accounts.helpers import bearer, signup
from tests.support.slow_urls import borrowed_connections

pytestmark = [
    pytest.mark.django_db(transaction=True),
    # These drive the installed application; with FAST_PATH=off Django's own handler serves.
    pytest.mark.skipif(not settings.FAST_PATH, reason="FAST_PATH=off: Django's ASGIHandler serves"),
]


@pytest.fixture
def slow_urls(settings):
    settings.ROOT_URLCONF = "tests.support.slow_urls"
    from django.urls import clear_url_caches

    clear_url_caches()
    yield
    clear_url_caches()


async def test_a_requests_sync_work_stays_on_one_thread(api, slow_urls):
    threads = (await api.get("/slow")).json()["threads"]
    assert threads[0] == threads[1]


async def test_threads_are_reused_by_later_requests(api, slow_urls):
    from project.asgi import application

    handler = application.django_app
    assert isinstance(handler, WarmThreadASGIHandler)
    before = handler.threads.created
    seen = {tuple((await api.get("/slow")).json()["threads"]) for _ in range(20)}
    assert handler.threads.created - before <= 1
    assert len(seen) == 1


async def test_a_slow_request_does_not_stall_another(api, slow_urls):
    started = time.perf_counter()
    slow, fast = await asyncio.gather(api.get("/slow?seconds=0.6"), api.get("/slow?seconds=0.6"))
    elapsed = time.perf_counter() - started
    assert elapsed < 1.1, "two requests' sync work ran one after the other"
    assert slow.json()["threads"][0] != fast.json()["threads"][0]


@pytest.mark.postgresql
async def test_connections_go_back_to_the_pool_after_each_request(api):
    session = await signup(api, "pool@example.com")
    for _ in range(30):
        assert (await api.get("/api/auth/me", headers=bearer(session))).status_code == 200
    assert getattr(connections["default"], "pool", None) is not None
    # At most the test's own thread may hold one: no request keeps a connection.
    assert borrowed_connections() <= 1


@pytest.mark.parametrize("path", ["/health", "/api/auth/me", "/no-such-page"])
async def test_request_started_and_finished_fire_once_per_request(api, path):
    from django.core import signals

    fired: list[str] = []

    def started(**kwargs):
        fired.append("started")

    def finished(**kwargs):
        fired.append("finished")

    signals.request_started.connect(started)
    signals.request_finished.connect(finished)
    try:
        await api.get(path)
    finally:
        signals.request_started.disconnect(started)
        signals.request_finished.disconnect(finished)
    assert fired == ["started", "finished"]


async def test_a_request_whose_thread_holds_nothing_closes_its_response_inline(api):
    from project.asgi import application

    handler = application.django_app
    assert isinstance(handler, WarmThreadASGIHandler)
    await api.get("/health")
    assert handler.threads.idle[-1].holds_connection is False  # nothing sent to the thread
    await api.get("/api/auth/me", headers={"Authorization": "Bearer x.y.z"})
    assert handler.threads.idle[-1].holds_connection is False  # refused before any query


@pytest.mark.postgresql
async def test_a_pooled_connection_is_held_only_while_the_thread_runs_queries(api, slow_urls):
    answer = (await api.get("/pool")).json()
    assert answer["during_query"] == answer["before"] + 1
    assert answer["after_query"] == answer["before"]  # back in the pool before the response


@pytest.mark.postgresql
async def test_an_authenticated_request_closes_its_response_inline(api):
    from project.asgi import application

    handler = application.django_app
    assert isinstance(handler, WarmThreadASGIHandler)
    session = await signup(api, "inline@example.com")
    assert (await api.get("/api/auth/me", headers=bearer(session))).status_code == 200
    assert handler.threads.idle[-1].holds_connection is False


async def test_a_connection_inside_a_transaction_stays_with_its_thread():
    from django.db import connection, transaction

    from fastpath.handlers import RequestThread

    thread = RequestThread()
    try:
        atomic = transaction.atomic()

        def open_transaction() -> None:
            atomic.__enter__()
            connection.ensure_connection()

        def close_transaction() -> None:
            atomic.__exit__(None, None, None)

        await asyncio.wrap_future(thread.submit(open_transaction))
        assert thread.holds_connection is True
        await asyncio.wrap_future(thread.submit(close_transaction))
        pooled = getattr(connection, "pool", None) is not None
        assert thread.holds_connection is not pooled  # without a pool (SQLite) it stays
    finally:
        thread.shutdown(wait=True)


def asgi_get(path: str) -> dict[str, object]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"localhost")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8081),
    }


async def call_application(
    path: str, *, disconnect_after: float | None = None
) -> list[MutableMapping[str, Any]]:
    """One request straight into project.asgi.application; the client may leave mid-request."""
    from project.asgi import application

    messages: list[MutableMapping[str, Any]] = [
        {"type": "http.request", "body": b"", "more_body": False}
    ]
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> MutableMapping[str, Any]:
        if messages:
            return messages.pop(0)
        if disconnect_after is None:
            await asyncio.Event().wait()  # the client stays until the response is sent
        await asyncio.sleep(disconnect_after or 0)
        return {"type": "http.disconnect"}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    await application(asgi_get(path), receive, send)
    return sent


async def test_a_client_that_disconnects_cancels_the_view(slow_urls):
    from django.core import signals

    from tests.support.slow_urls import cancelled_views

    finished: list[str] = []

    def on_finished(**kwargs):
        finished.append("finished")

    signals.request_finished.connect(on_finished)
    cancelled_views.clear()
    started = time.perf_counter()
    try:
        sent = await asyncio.wait_for(call_application("/waits", disconnect_after=0.1), 5)
    finally:
        signals.request_finished.disconnect(on_finished)
    assert time.perf_counter() - started < 2, "the view ran on after the client left"
    assert cancelled_views == ["/waits"]
    assert sent == []  # nobody to answer
    assert finished == ["finished"]


async def test_a_request_leaves_no_task_running(slow_urls):
    before = asyncio.all_tasks()
    sent = await call_application("/slow")
    await asyncio.sleep(0)  # let a cancelled watcher finish
    assert sent[0]["status"] == 200
    assert asyncio.all_tasks() == before


async def test_requests_leave_no_garbage_for_the_cyclic_collector():
    import gc

    await call_application("/health")  # warm caches first
    gc.collect()
    gc.disable()
    try:
        for _ in range(20):
            assert (await call_application("/health"))[0]["status"] == 200
        unreachable = gc.collect()
    finally:
        gc.enable()
    # Django's TaskGroup-and-exception version left about 60 objects per request.
    assert unreachable < 20


@pytest.mark.parametrize("path", ["/health", "/no-such-page", "/api/auth/me"])
async def test_answers_carry_their_content_length(path):
    sent = await call_application(path)
    start, body = sent[0], sent[1]
    headers = dict(start["headers"])
    assert int(headers[b"Content-Length"]) == len(body["body"]) > 0


def test_a_response_closed_quietly_still_closes_what_it_holds():
    from django.http import HttpResponse

    from fastpath.handlers import response_close_quietly

    closed: list[str] = []

    def failing() -> None:
        raise OSError("already gone")

    response: Any = HttpResponse(b"x")
    response._resource_closers.extend([failing, lambda: closed.append("file")])
    response_close_quietly(response)
    assert closed == ["file"]  # a failing closer does not stop the next, as in Django
    assert response.closed is True
    assert response._resource_closers == []
