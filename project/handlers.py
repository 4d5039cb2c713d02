"""Django's ASGI handler, with each request's thread-sensitive work on a reused warm thread.

Django's `ASGIHandler.__call__` opens a fresh `ThreadSensitiveContext()` per request, so the
request's first thread-sensitive `sync_to_async` call (a sync middleware, a signal receiver, an
ORM query, `response.close`) creates a brand-new thread, and asgiref joins it afterwards with yet
another thread (see ../shared/PERFORMANCE.md). asgiref 3.13 lets the context take an executor the
caller owns. Here each request borrows a single-thread executor from a free list and returns it
when the request ends: per-request isolation stays (one request's ORM work never shares a thread
with another's in flight, so a slow query stalls nobody else), threads stay warm.

Connection hygiene is Django's own: `request_finished` runs `close_old_connections` on the
request's thread (via `response.close`), which hands pooled connections back; `request_started`
runs it again at the start of the next request on the same thread, which covers aborted ones.
"""

from collections import deque
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from asgiref.sync import ThreadSensitiveContext
from django.core.handlers.asgi import ASGIHandler


class WarmThreads:
    """Single-thread executors lent to one request at a time; at most `keep` idle ones are kept."""

    def __init__(self, keep: int) -> None:
        self.keep = keep
        self.idle: deque[ThreadPoolExecutor] = deque()
        self.created = 0

    def borrow(self) -> ThreadPoolExecutor:
        try:
            return self.idle.pop()  # the most recently used: its caches are warmest
        except IndexError:
            self.created += 1
            return ThreadPoolExecutor(max_workers=1, thread_name_prefix="request")

    def give_back(self, executor: ThreadPoolExecutor) -> None:
        if len(self.idle) < self.keep:
            self.idle.append(executor)
        else:
            executor.shutdown(wait=False)


class WarmThreadASGIHandler(ASGIHandler):
    """`ASGIHandler` whose only change is the executor behind each request's context."""

    def __init__(self, keep_threads: int = 64) -> None:
        super().__init__()
        self.threads = WarmThreads(keep_threads)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        executor = self.threads.borrow()
        try:
            async with ThreadSensitiveContext(executor=executor):
                await self.handle(scope, receive, send)
        finally:
            self.threads.give_back(executor)
