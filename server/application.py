"""The ASGI layer around Django: the lifespan protocol, the request body limit, and each
request's id, access log line and request metrics.

Django's ASGI handler refuses lifespan events and reads a whole body before any view runs, so
both live here, in front of it. The request id is chosen here too, so that even an answer
refused before Django (413) carries it, and every log line of the request can name it.
Everything else goes through Django's request/response cycle.
"""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from django.conf import settings
from django.urls import Resolver404, resolve

from health import checks
from project import metrics as service_metrics
from server.draining import drain_on_signal
from toolkit import metrics
from toolkit.client_address import ForwardedAddressInvalid, configured_rule
from toolkit.http import compact_json
from toolkit.request_context import (
    UNMATCHED,
    RequestContext,
    current_request,
    request_id_choose,
)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[..., Awaitable[None]]

logger = logging.getLogger("project.server")
# Seconds a request cut short by the shutdown is told to wait (another instance takes it).
SHUTTING_DOWN_RETRY_AFTER = "1"


class ServiceApplication:
    """The application uvicorn serves: `project.asgi:application`."""

    def __init__(self, django_app: ASGIApp) -> None:
        self.django_app = django_app
        self.max_body_bytes: int = settings.MAX_BODY_BYTES
        self.requests = RequestRecorder()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.lifespan(receive, send)
        elif scope["type"] == "http":
            await self.http(scope, receive, send)
        else:
            await self.django_app(scope, receive, send)

    async def lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await startup()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one request under its id: kept from a valid X-Request-ID, else made here,
        echoed in the answer, in every log line written meanwhile, and in its access log line
        and metrics, recorded as the answer's last part goes out (so a client that has its
        answer finds it counted), or when the request ends without one."""
        head = RequestHead(scope)
        context = RequestContext(request_id_choose(head.request_id), scope["method"])
        token = current_request.set(context)
        started = time.perf_counter()
        request_id_header = (b"x-request-id", context.id.encode())
        recorded = False

        def record() -> None:
            nonlocal recorded
            if not recorded:
                recorded = True
                self.requests.finished(scope, head, context, time.perf_counter() - started)

        async def send_with_request_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                context.status = message["status"]
                message["headers"] = [*message.get("headers", ()), request_id_header]
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                record()
            await send(message)

        try:
            await self.http_bounded(scope, head, receive, send_with_request_id)
        except asyncio.CancelledError:
            # uvicorn cancels the requests still running when SHUTDOWN_TIMEOUT runs out. One
            # that has not begun its answer gets a 503 saying so (the client may retry on
            # another instance) instead of uvicorn's bare 500 and a traceback in the log.
            if context.status or not checks.draining.is_set():
                raise
            await send_json_error(
                send_with_request_id,
                503,
                "The server is shutting down: retry",
                retry_after=SHUTTING_DOWN_RETRY_AFTER,
            )
            logger.warning(
                "Request cut short: SHUTDOWN_TIMEOUT ran out", extra={"event": "request.cut"}
            )
        finally:
            record()
            current_request.reset(token)

    async def http_bounded(
        self, scope: Scope, head: "RequestHead", receive: Receive, send: Send
    ) -> None:
        declared = head.content_length
        if declared == -1:
            await send_json_error(send, 400, "Content-Length is not a valid number")
            return
        if declared is not None:
            if declared > self.max_body_bytes:
                await send_json_error(send, 413, self.too_large_detail())
                return
            await self.django_app(scope, receive, send)
            return
        # No Content-Length (chunked upload): read up to the limit before Django does.
        buffered: list[Message] = []
        size = 0
        while True:
            message = await receive()
            buffered.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if size > self.max_body_bytes:
                await send_json_error(send, 413, self.too_large_detail())
                return
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            return buffered.pop(0) if buffered else await receive()

        await self.django_app(scope, replay, send)

    def too_large_detail(self) -> str:
        return f"Request body is larger than {self.max_body_bytes} bytes"


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
    histogram per (route, method, status), their labelled children cached here so that a
    request costs two in-memory (or memory-mapped) increments and no lookups in the client's
    locked label table. Everything runs on the event loop: no thread hop.
    """

    def __init__(self) -> None:
        self.metrics_on = bool(settings.METRICS_TOKEN)
        self.children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    def finished(
        self, scope: Scope, head: RequestHead, context: RequestContext, seconds: float
    ) -> None:
        # No answer started: the application failed (uvicorn answers 500) or the client left.
        status = context.status or 500
        if context.route == UNMATCHED and context.status:
            context.route = route_of_unresolved(scope)
        method = context.method if context.method in KNOWN_METHODS else "OTHER"
        if self.metrics_on:
            key = (context.route, method, status)
            children = self.children.get(key)
            if children is None:
                labels = (context.route, method, str(status))
                children = (
                    metrics.HTTP_REQUESTS.labels(*labels),
                    metrics.HTTP_REQUEST_DURATION.labels(*labels),
                )
                self.children[key] = children
            children[0].inc()
            children[1].observe(seconds)
        if access_logger.isEnabledFor(logging.INFO):
            duration_ms = round(seconds * 1000, 2)
            access_logger.info(
                "%s %s %s %.2f ms",
                method,
                context.route,
                status,
                duration_ms,
                extra={
                    "request_id": context.id,
                    "method": method,
                    "route": context.route,
                    "status": status,
                    "duration_ms": duration_ms,
                    "client_ip": access_client_ip(scope, head),
                    "user_id": context.user_id,
                },
            )


KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
access_logger = logging.getLogger("project.access")


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


async def send_json_error(send: Send, status: int, detail: str, retry_after: str = "") -> None:
    body = compact_json({"detail": detail}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    if retry_after:
        headers.append((b"retry-after", retry_after.encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def startup() -> None:
    drain_on_signal()
    logger.info("Starting application...")
    logger.info("Environment: %s", settings.ENVIRONMENT)
    logger.info("CORS Origins: %s", settings.CORS_ALLOWED_ORIGINS)
    logger.info("Database: %s", settings.DATABASE.label)
    for warning in settings.CONFIGURATION_WARNINGS:
        logger.warning(warning)
    report = await checks.readiness(diagnose=True)
    if report.ready:
        logger.info("Database initialized successfully")
    else:
        logger.error("Database not ready: %s", report.reason)
    if settings.METRICS_TOKEN:
        await service_metrics.worker_started()


async def shutdown() -> None:
    """After uvicorn has stopped accepting and the requests in flight have finished (or
    SHUTDOWN_TIMEOUT ran out): readiness already fails (server.draining), the pool closes its
    connections, and this worker's gauges leave the metrics."""
    checks.draining.set()
    if settings.METRICS_TOKEN:
        await service_metrics.worker_stopping()
    await checks.close_database_pool()
