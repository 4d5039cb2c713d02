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

from server.access import RequestHead, RequestRecorder, Scope
from server.draining import drain_on_signal
from toolkit import lifecycle
from toolkit.http import compact_json
from toolkit.request_context import RequestContext, current_request, request_id_choose

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[..., Awaitable[None]]

# The log's name from before the server had a package of its own: operators search for it.
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
                self.requests.stopped = False
                await startup()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await shutdown(self.requests)
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one request under its id: kept from a valid X-Request-ID, else made here,
        echoed in the answer, in every log line written meanwhile, and in its access log line
        and metrics, handed to the recorder (server.access) as the answer's last part goes out
        (so a client that has its answer finds it counted by this worker's next scrape; the
        other workers see it within server.access.RECORD_DELAY), or when the request ends
        without one."""
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
                self.requests.finished(scope, head, context, started)

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
            if context.status or not lifecycle.draining.is_set():
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
        self, scope: Scope, head: RequestHead, receive: Receive, send: Send
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
    await lifecycle.startup()


async def shutdown(requests: RequestRecorder) -> None:
    """After uvicorn has stopped accepting and the requests in flight have finished (or
    SHUTDOWN_TIMEOUT ran out): readiness already fails (server.draining), the answered requests
    still queued are recorded, and what the wiring registered runs (toolkit.lifecycle: the
    metrics chores stop, the pool closes its connections)."""
    lifecycle.draining.set()
    await requests.stop()
    await lifecycle.shutdown()
