"""The ASGI layer around Django: the lifespan protocol and the request body limit.

Django's ASGI handler refuses lifespan events and reads a whole body before any view runs, so
both live here, in front of it. Everything else goes through Django's request/response cycle.
"""

import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from django.conf import settings

from health import checks
from toolkit.http import compact_json

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[..., Awaitable[None]]

logger = logging.getLogger("project.server")


class ServiceApplication:
    """The application uvicorn serves: `project.asgi:application`."""

    def __init__(self, django_app: ASGIApp) -> None:
        self.django_app = django_app
        self.max_body_bytes: int = settings.MAX_BODY_BYTES

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
        declared = declared_length(scope)
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


def declared_length(scope: Scope) -> int | None:
    """The Content-Length header: None when absent, -1 when it is not a number."""
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                length = int(value)
            except ValueError:
                return -1
            return length if length >= 0 else -1
    return None


async def send_json_error(send: Send, status: int, detail: str) -> None:
    body = compact_json({"detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def startup() -> None:
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


async def shutdown() -> None:
    checks.draining.set()
    await checks.close_database_pool()
