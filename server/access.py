"""What the ASGI layer reads from a request's head, and each answered request's access log line
and request metrics (the counter and histogram by route template, method and status)."""

import logging
import time
from collections.abc import MutableMapping
from typing import Any

from django.conf import settings
from django.urls import Resolver404, resolve

from server.log_format import ACCESS_LOGGER, ACCESS_MESSAGE, AccessEntry
from server.logging import BackgroundHandler
from toolkit import metrics
from toolkit.client_address import ForwardedAddressInvalid, configured_rule
from toolkit.request_context import UNMATCHED, RequestContext

Scope = MutableMapping[str, Any]


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
    """The access log line and the request metrics of each answered request.

    Metrics are recorded only when they are served (METRICS_TOKEN set): a counter and a
    histogram per (route, method, status), gathered on the event loop and written a moment
    later, many requests at once (toolkit.metrics.AnsweredRequests). The access line is
    handed to the log writer as its fields (no LogRecord is made on the request's path).
    Everything runs on the event loop: no thread hop.
    """

    def __init__(self) -> None:
        self.metrics_on = bool(settings.METRICS_TOKEN)

    def finished(
        self, scope: Scope, head: RequestHead, context: RequestContext, seconds: float
    ) -> None:
        # No answer started: the application failed (uvicorn answers 500) or the client left.
        status = context.status or 500
        if context.route == UNMATCHED and context.status:
            context.route = route_of_unresolved(scope)
        method = context.method if context.method in KNOWN_METHODS else "OTHER"
        if self.metrics_on:
            metrics.answered_requests.record(context.route, method, status, seconds)
        if access_logger.isEnabledFor(logging.INFO):
            # tuple.__new__: the named tuple's own __new__ is a Python call, this one is not.
            entry = tuple.__new__(
                AccessEntry,
                (
                    time.time(),
                    context.id,
                    method,
                    context.route,
                    status,
                    round(seconds * 1000, 2),
                    access_client_ip(scope, head),
                    context.user_id,
                ),
            )
            handler = direct_access_handler()
            if handler is not None:
                handler.entry_put(entry)
            else:
                access_logger.info(ACCESS_MESSAGE, *entry.args(), extra=entry.fields())


KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# The access log's name from before the server had a package of its own (docs/operations.md).
access_logger = logging.getLogger(ACCESS_LOGGER)


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


def route_of_unresolved(scope: Scope) -> str:
    """The route template of a request answered before Django resolved its URL: refused here
    (413) or by a middleware (a CORS preflight, a refused Host), or matching no pattern."""
    try:
        match = resolve(scope["path"])
    except Resolver404:
        return UNMATCHED
    return "/" + match.route if match.route else UNMATCHED


def access_client_ip(scope: Scope, head: RequestHead) -> str | None:
    """The client's address as the throttles see it (toolkit.client_address): CLIENT_IP_HEADER's
    rightmost entry when a trusted proxy set it (and it holds an address), else the TCP peer."""
    client = scope.get("client")
    peer = str(client[0]) if client else None
    if head.forwarded_for is not None:
        forwarded = head.forwarded_for.decode("latin-1")
        try:
            address = configured_rule().forwarded_address(peer, forwarded)
        except ForwardedAddressInvalid:
            address = None  # answered 400 where an address was needed; the line names the peer
        if address is not None:
            return address
    return peer
