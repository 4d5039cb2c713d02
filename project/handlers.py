"""Django's ASGI handler, with each request's thread-sensitive work on a reused warm thread.

Django's `ASGIHandler.__call__` opens a fresh `ThreadSensitiveContext()` per request, so the
request's first thread-sensitive `sync_to_async` call (a sync middleware, a signal receiver, an
ORM query, `response.close`) creates a brand-new thread, and asgiref joins it afterwards with yet
another thread (see ../shared/PERFORMANCE.md). asgiref 3.13 lets the context take an executor the
caller owns. Here each request borrows a single-thread executor from a free list and returns it
when the request ends: per-request isolation stays (one request's ORM work never shares a thread
with another's in flight, so a slow query stalls nobody else), threads stay warm.

`handle` is Django 6.1's, with two hops removed where they can do nothing (tests in
tests/project/test_handlers.py pin this):

- `request_started` is sent on the event loop. Its receivers (`reset_queries`,
  `close_old_connections`) act on the calling thread's database connections; the request's own
  thread has none at this point (the previous request on it closed them, see below), and neither
  has the event loop's thread (async code never opens one), so both calls are no-ops either way.
- `response.close()` (which sends `request_finished`, whose receivers hand the thread's pooled
  connections back) runs on the request's thread when the request gave that thread any work, as
  Django does, and on the event loop otherwise: a thread that ran nothing holds no connection.
"""

import asyncio
import contextvars
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing
from typing import Any

from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.http import HttpResponseBadRequest
from django.urls import set_script_prefix


class RequestThread(ThreadPoolExecutor):
    """One request's thread; remembers whether the current request gave it any work."""

    def __init__(self) -> None:
        super().__init__(max_workers=1, thread_name_prefix="request")
        self.used = False

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        self.used = True
        return super().submit(fn, *args, **kwargs)


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
        thread.used = False
        return thread

    def give_back(self, thread: RequestThread) -> None:
        if len(self.idle) < self.keep:
            self.idle.append(thread)
        else:
            thread.shutdown(wait=False)


class RequestProcessed(Exception):
    """Ends the request's task group once the response is sent (Django defines it per request)."""


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
            signals.request_started.send(sender=self.__class__, scope=scope)
            request, error_response = self.create_request(scope, body_file)
            if request is None or error_response is not None:
                # create_request gives a request, or (when the request is malformed) a response.
                error_response = error_response or HttpResponseBadRequest()
                body_file.close()
                await self.send_response(error_response, send)
                await sync_to_async(error_response.close)()
                return

            response = None
            try:
                try:
                    async with asyncio.TaskGroup() as tasks:
                        tasks.create_task(self.listen_for_disconnect(receive))
                        response = await self.run_get_response(request)
                        await self.send_response(response, send)
                        raise RequestProcessed
                except* (RequestProcessed, RequestAborted):
                    pass
            except BaseExceptionGroup as exception_group:
                if len(exception_group.exceptions) == 1:
                    raise exception_group.exceptions[0] from None
                raise

            if response is None:
                await signals.request_finished.asend(sender=self.__class__)
            elif current_thread.get().used:
                await sync_to_async(response.close)()
            else:
                response.close()
