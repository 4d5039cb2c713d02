"""What the ASGI layer reads from a request's head, and each answered request's access log line
and request metrics (the counter and histogram by route template, method and status)."""

import asyncio
import logging
import os
import threading
import time
import weakref
from collections.abc import MutableMapping
from typing import Any

from django.conf import settings
from django.urls import Resolver404, resolve

from server.batching import BatchingQueue
from server.log_format import ACCESS_LOGGER, AccessEntry
from server.logging import BackgroundHandler
from toolkit import metrics
from toolkit.client_address import ForwardedAddressInvalid, configured_rule
from toolkit.request_context import UNMATCHED, RequestContext, current_request

Scope = MutableMapping[str, Any]
# What the event loop hands the recorder per answered request: its context, when it started and
# ended (time.perf_counter), its TCP peer, the proxy's client address header and its path.
Answered = tuple[RequestContext, float, float, Any, bytes | None, str]

# Seconds a batch of answered requests gathers before the recorder's thread records it: how late
# an access line reaches the log writer, and another worker's requests a scrape.
RECORD_DELAY = 0.05
# Answered requests waiting for the recorder: seconds of a busy worker's; beyond, not recorded.
RECORD_QUEUE_SIZE = 10_000


class RequestHead:
    """What the ASGI layer reads from a request's headers, in one pass over them."""

    __slots__ = ("content_length", "forwarded_for", "request_id")

    def __init__(self, scope: Scope) -> None:
        self.content_length: int | None = None
        self.request_id: bytes | None = None
        self.forwarded_for: bytes | None = None
        # CLIENT_IP_HEADER as ASGI spells header names (lowercase bytes); b"" when unset.
        client_ip_header = configured_rule().asgi_name
        # The first Content-Length and X-Request-ID count; the proxy's header is its last one.
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                if self.content_length is None:
                    self.content_length = content_length_parse(value)
            elif name == b"x-request-id":
                if self.request_id is None:
                    self.request_id = value
            elif name == client_ip_header:
                self.forwarded_for = value


def content_length_parse(value: bytes) -> int:
    """The Content-Length header's value, -1 when it is not a number."""
    try:
        length = int(value)
    except ValueError:
        return -1
    return length if length >= 0 else -1


class RequestRecorder:
    """The access log line and the request metrics of each answered request, recorded off the
    event loop.

    The event loop only appends what the request knew to a queue (server.batching); a thread of
    the process records each batch: the metrics, when they are served (METRICS_TOKEN set: a
    counter and a histogram per route, method and status, written once per batch by
    toolkit.metrics.AnsweredRequests), and the access line, handed to the log writer as its
    fields (no LogRecord is made), or as a record dated when its answer ended when something
    else is attached to the access logger. Measured on this machine, the same work on the
    event loop cost /health twice as much (docs/performance.md). A scrape records what is
    queued first (`record_now`), so a client that has its answer finds it counted by this
    worker. After the lifespan's shutdown (`stop`), requests cut short are recorded as they end.
    """

    def __init__(self) -> None:
        self.metrics_on = bool(settings.METRICS_TOKEN)
        self.batches: BatchingQueue[Answered] = BatchingQueue(
            "request-recorder", self.record_batch, delay=RECORD_DELAY, size=RECORD_QUEUE_SIZE
        )
        self.stopped = False
        recorders.add(self)

    def finished(
        self, scope: Scope, head: RequestHead, context: RequestContext, started: float
    ) -> None:
        if not self.metrics_on and not access_logger.isEnabledFor(logging.INFO):
            return
        answered = (
            context,
            started,
            time.perf_counter(),
            scope.get("client"),
            head.forwarded_for,
            scope["path"],
        )
        if self.stopped:
            self.batches.handle_now(answered)
        else:
            self.batches.put(answered)

    def record_now(self) -> None:
        """Record what is queued, in the calling thread."""
        self.batches.drain()

    async def stop(self) -> None:
        """Record what is queued and stop the thread; requests ending later (cut short by the
        shutdown) are recorded as they end."""
        self.stopped = True  # set on the event loop, before any such request ends
        await asyncio.to_thread(self.batches.stop)

    def record_batch(self, batch: list[Answered]) -> None:
        # The metrics gather in one place per process (toolkit.metrics.answered_requests). A
        # scrape records in its own request's context: these lines are no request's.
        outside_any_request = current_request.set(None)
        try:
            with recording:
                self.record_batch_alone(batch)
        finally:
            current_request.reset(outside_any_request)

    def record_batch_alone(self, batch: list[Answered]) -> None:
        # The time of day each answer ended, from the monotonic clock each duration is read from
        # (read between two readings of the wall clock, in case the thread is paused meanwhile).
        before = time.time()
        monotonic = time.perf_counter()
        wall_clock_offset = (before + time.time()) / 2 - monotonic
        logging_on = access_logger.isEnabledFor(logging.INFO)
        handler = direct_access_handler()
        for context, started, ended, client, forwarded_for, path in batch:
            try:
                # No answer: the application failed (uvicorn answers 500) or the client left.
                status = context.status or 500
                route = context.route
                if route == UNMATCHED and context.status:
                    route = route_of_unresolved(path)
                method = context.method if context.method in KNOWN_METHODS else "OTHER"
                seconds = ended - started
                if self.metrics_on:
                    metrics.answered_requests.record(route, method, status, seconds)
                if not logging_on:
                    continue
                # tuple.__new__: the named tuple's own __new__ is a Python call, this one is not.
                entry = tuple.__new__(
                    AccessEntry,
                    (
                        ended + wall_clock_offset,
                        context.id,
                        method,
                        route,
                        status,
                        round(seconds * 1000, 2),
                        access_client_ip(client, forwarded_for),
                        context.user_id,
                    ),
                )
                if handler is not None:
                    handler.entry_put(entry)
                else:
                    access_logger.handle(entry.record())
            except Exception:
                logger.exception("Recording an answered request failed")
        lost = self.batches.dropped_unreported()
        if lost:
            logger.warning(
                "%d answered requests not recorded (no access line, no metrics): the recorder's "
                "queue was full",
                lost,
                extra={"event": "requests.unrecorded", "dropped": lost},
            )
        if self.metrics_on:
            metrics.answered_requests.write()


recording = threading.Lock()


def recording_renew() -> None:
    """In a forked child: a batch the parent was recording holds a lock nothing here releases."""
    global recording
    recording = threading.Lock()


os.register_at_fork(after_in_child=recording_renew)
# Every recorder of the process (one per application; the tests make more), for a scrape.
recorders: "weakref.WeakSet[RequestRecorder]" = weakref.WeakSet()


def answered_requests_record_now() -> None:
    """Record every answered request queued in this process: before this worker answers a
    scrape, whose client may have had its last answer a moment ago."""
    for recorder in list(recorders):
        recorder.record_now()


KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# The access log's name from before the server had a package of its own (docs/operations.md).
access_logger = logging.getLogger(ACCESS_LOGGER)
logger = logging.getLogger("project.server")


def direct_access_handler() -> BackgroundHandler | None:
    """The handler an access line may be handed to as its fields, without a LogRecord: the
    configured one (server.logging) when it is the access logger's only way out. Anything else
    attached (a handler, a filter) gets a record made by logging as usual."""
    handlers = access_logger.handlers
    if len(handlers) != 1 or access_logger.filters or access_logger.propagate:
        return None
    handler = handlers[0]
    if type(handler) is BackgroundHandler and handler.takes_entries_as_they_are:
        return handler
    return None


def route_of_unresolved(path: str) -> str:
    """The route template of a request answered before Django resolved its URL: refused here
    (413) or by a middleware (a CORS preflight, a refused Host), or matching no pattern."""
    try:
        match = resolve(path)
    except Resolver404:
        return UNMATCHED
    return "/" + match.route if match.route else UNMATCHED


def access_client_ip(client: Any, forwarded_for: bytes | None) -> str | None:
    """The client's address as the throttles see it (toolkit.client_address): CLIENT_IP_HEADER's
    rightmost entry when a trusted proxy set it (and it holds an address), else the TCP peer."""
    peer = str(client[0]) if client else None
    if forwarded_for is not None:
        forwarded = forwarded_for.decode("latin-1")
        try:
            address = configured_rule().forwarded_address(peer, forwarded)
        except ForwardedAddressInvalid:
            address = None  # answered 400 where an address was needed; the line names the peer
        if address is not None:
            return address
    return peer
