"""Django's ASGI handler, with each request's thread-sensitive work on a reused warm thread.

Django's `ASGIHandler.__call__` opens a fresh `ThreadSensitiveContext()` per request, so the
request's first thread-sensitive `sync_to_async` call (a sync middleware, a signal receiver, an
ORM query, `response.close`) creates a brand-new thread, and asgiref joins it afterwards with yet
another thread. asgiref 3.13 lets the context take an executor the
caller owns. Here each request borrows a single-thread executor from a free list and returns it
when the request ends: per-request isolation stays (one request's ORM work never shares a thread
with another's in flight, so a slow query stalls nobody else), threads stay warm.

Each piece of work a request sends to its thread (an ORM call, a sync middleware) hands the
thread's pooled database connections back when it ends, unless a transaction is still open:
a request holds a connection only while its thread runs queries.

`handle` is Django 6.1's, with two hops removed where they can do nothing (tests in
tests/fastpath/test_handlers.py pin this), as long as only Django's own receivers listen:

- `request_started` is not sent. Django's receivers (`reset_queries`,
  `close_old_connections`) act on the calling thread's database connections; the request's own
  thread holds none at this point (see above), and neither does the event loop's thread (async
  code never opens one), so both calls are no-ops wherever they would run.
- `response.close()` (which sends `request_finished`, whose receivers release the thread's
  connections) runs on the request's thread when that thread still holds something to release
  (an open transaction, a connection without a pool, as with SQLite, or a DEBUG query log), as
  Django does. Otherwise the response's resources are closed on the event loop and the signal
  is not sent: its receivers would find nothing to do there (no connection; `close_caches`
  closes the caches of that thread, and `reset_urlconf` a URLconf each request sets afresh).
  Sending them cost a tenth of a `/health` probe.

Any other receiver of either signal, sync or async, is served exactly as Django serves it
(`asend`, and `response.close` on the request's thread).

and one mechanism replaced: a client that disconnects still cancels the view, as in Django, but
without Django's per-request TaskGroup and exception (see `respond_unless_disconnected`). With
it, every request left cyclic garbage behind; without it, none, so the collector rarely runs.
"""

import asyncio
import contextvars
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing, suppress
from typing import Any

from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.core import signals
from django.core.cache import close_caches
from django.core.exceptions import RequestAborted
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.core.handlers.base import reset_urlconf
from django.db import close_old_connections, connections, reset_queries
from django.dispatch import Signal
from django.http import HttpRequest, HttpResponseBadRequest, HttpResponseBase
from django.urls import set_script_prefix
from django.urls.resolvers import ResolverMatch

from fastpath.routes import request_resolve

# Django's own receivers of the request signals: what `handle` may call on the event loop.
INLINE_SAFE_RECEIVERS = frozenset(
    {reset_queries, close_old_connections, close_caches, reset_urlconf}
)


def only_django_receivers(signal: Signal, sender: object) -> bool:
    """Whether every live receiver of `signal` is one of Django's own, all sync."""
    sync_receivers, async_receivers = signal._live_receivers(sender)
    return not async_receivers and all(r in INLINE_SAFE_RECEIVERS for r in sync_receivers)


def pooled_connections_return() -> bool:
    """Hand the calling thread's pooled database connections back to their pool, unless a
    transaction is open on them; say whether the thread still holds anything that
    `request_finished` would have to release on this thread (a connection, a DEBUG query log)."""
    holds = False
    for connection in connections.all(initialized_only=True):
        if connection.connection is not None:
            pooled = getattr(connection, "pool", None) is not None
            if pooled and connection.autocommit and not connection.in_atomic_block:
                connection.close()
            else:
                holds = True
        if connection.queries_log:
            holds = True
    return holds


def response_close_quietly(response: HttpResponseBase) -> None:
    """HttpResponseBase.close without sending `request_finished`: for a request whose thread
    holds nothing, when only Django's receivers listen (they would find nothing to release on
    the event loop's thread)."""
    closers: list[Any] = response._resource_closers  # type: ignore[attr-defined]
    for closer in closers:
        with suppress(Exception):  # Django's own rule: a failing closer is ignored
            closer()
    closers.clear()
    response.closed = True


class RequestThread(ThreadPoolExecutor):
    """One request's thread. After each piece of work it hands its pooled connections back, so
    a request holds a connection only while its thread runs queries (not while the event loop
    serves other requests, nor during a password hash), and it remembers whether anything is
    left for `request_finished` to release here."""

    def __init__(self) -> None:
        super().__init__(max_workers=1, thread_name_prefix="request")
        self.holds_connection = False

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        return super().submit(self.run_then_return_connections, fn, args, kwargs)

    def run_then_return_connections(
        self, fn: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        try:
            return fn(*args, **kwargs)
        finally:
            self.holds_connection = pooled_connections_return()


class WarmThreads:
    """Request threads lent to one request at a time; at most `keep` idle ones are kept."""

    def __init__(self, keep: int) -> None:
        self.keep = keep
        self.idle: deque[RequestThread] = deque()
        self.created = 0

    def borrow(self) -> RequestThread:
        try:
            thread = self.idle.pop()  # the most recently used: its caches are warmest
        except IndexError:
            self.created += 1
            thread = RequestThread()
        thread.holds_connection = False
        return thread

    def give_back(self, thread: RequestThread) -> None:
        if len(self.idle) < self.keep:
            self.idle.append(thread)
        else:
            thread.shutdown(wait=False)


class DisconnectWatch:
    """Cancels a request's task when its client disconnects. The watching task is started on
    the event loop's next turn, which a request answered without waiting never gives it."""

    def __init__(self, receive: Any, request_task: asyncio.Task[Any]) -> None:
        self.receive = receive
        self.request_task = request_task
        self.task: asyncio.Task[bool] | None = None
        self.starting = asyncio.get_running_loop().call_soon(self.start)

    def start(self) -> None:
        self.task = asyncio.get_running_loop().create_task(self.cancel_on_disconnect())

    async def cancel_on_disconnect(self) -> bool:
        message = await self.receive()
        if message["type"] == "http.disconnect":
            self.request_task.cancel()
            return True
        return False

    def saw_disconnect(self) -> bool:
        task = self.task
        return task is not None and task.done() and not task.cancelled() and task.result()

    def stop(self) -> None:
        self.starting.cancel()
        if self.task is not None:
            self.task.cancel()


current_thread: contextvars.ContextVar[RequestThread] = contextvars.ContextVar("request_thread")


class WarmThreadASGIHandler(ASGIHandler):
    def __init__(self, keep_threads: int = 64) -> None:
        super().__init__()
        self.threads = WarmThreads(keep_threads)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        thread = self.threads.borrow()
        token = current_thread.set(thread)
        try:
            async with ThreadSensitiveContext(executor=thread):
                await self.handle(scope, receive, send)
        finally:
            current_thread.reset(token)
            self.threads.give_back(thread)

    async def handle(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return

        with closing(body_file):
            set_script_prefix(get_script_prefix(scope))
            if not only_django_receivers(signals.request_started, self.__class__):
                await signals.request_started.asend(sender=self.__class__, scope=scope)
            request, error_response = self.create_request(scope, body_file)
            if request is None or error_response is not None:
                # create_request gives a request, or (when the request is malformed) a response.
                error_response = error_response or HttpResponseBadRequest()
                body_file.close()
                await self.send_response(error_response, send)
                await sync_to_async(error_response.close)()
                return

            response = await self.respond_unless_disconnected(request, receive, send)
            if response is None:
                await signals.request_finished.asend(sender=self.__class__)
            elif current_thread.get().holds_connection or not only_django_receivers(
                signals.request_finished, self.__class__
            ):
                await sync_to_async(response.close)()
            else:
                response_close_quietly(response)

    def resolve_request(self, request: HttpRequest) -> ResolverMatch:
        return request_resolve(request)

    async def send_response(self, response: HttpResponseBase, send: Any) -> None:
        # Content-Length, as Django's CommonMiddleware sets it (that middleware is not used: its
        # host check would refuse probes that reach /health by pod IP). Without it, uvicorn
        # sends every answer chunked.
        if not response.streaming and not response.has_header("Content-Length"):
            response.headers["Content-Length"] = str(len(response.content))  # type: ignore[attr-defined]
        await super().send_response(response, send)

    async def respond_unless_disconnected(
        self, request: HttpRequest, receive: Any, send: Any
    ) -> HttpResponseBase | None:
        """Run the view and send its response; if the client disconnects first, cancel both and
        give None. Django's rule, without Django's machinery: it runs the view in a TaskGroup
        and ends the group by raising an exception, whose traceback ties the request, the
        response and their frames into a reference cycle, so every request left garbage for
        the cyclic collector. Here a watcher task cancels the request, started only once the
        request first waits: a request answered without waiting (a probe) could not have
        noticed a disconnect anyway, and skips the task."""
        request_task = asyncio.current_task()
        assert request_task is not None  # noqa: S101  # always called from a task
        watch = DisconnectWatch(receive, request_task)
        try:
            response = await self.run_get_response(request)
            await self.send_response(response, send)
        except asyncio.CancelledError:
            if watch.saw_disconnect():
                request_task.uncancel()  # our own cancel: the client left, nothing to report
                return None
            raise
        finally:
            watch.stop()
        return response
