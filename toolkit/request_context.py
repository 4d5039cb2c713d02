"""The request being served, as log lines and metrics see it: its id, route, user and status.

The ASGI layer (server.application) opens one `RequestContext` per request and keeps it in a
context variable, which every task and `sync_to_async` thread serving the request inherits; the
object itself is shared, so what the inner layers learn (the route Django resolved, the user a
bearer token named) is there for the access log line written when the answer has gone.
"""

import logging
import os
import random
import re
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django.http import HttpRequest

# API.md, "Operations": a client's X-Request-ID is kept when it is 1-128 of these characters.
REQUEST_ID = re.compile(rb"[A-Za-z0-9._-]{1,128}")
# The route label of a request no URL pattern matched (a 404, a refusal before Django): never
# the raw path, which a client chooses (unbounded label values, tokens in paths).
UNMATCHED = "unmatched"


@dataclass(slots=True)
class RequestContext:
    id: str
    method: str
    route: str = UNMATCHED
    user_id: str | None = None
    status: int = 0


current_request: ContextVar[RequestContext | None] = ContextVar("current_request", default=None)


# Request ids must be unique, not secret: drawn from a generator seeded once per process, because
# an os.urandom call per request (a system call) cost about a sixth of an authenticated read's
# time on this sandboxed machine (profiled with py-spy: /me 1,277 req/s without it, ~1,050 with).
request_id_random = random.Random(os.urandom(32))  # noqa: S311 - identifiers, not secrets


def request_id_choose(incoming: bytes | None) -> str:
    """The client's X-Request-ID when it is valid, else a new random one (32 hex digits)."""
    if incoming is not None and REQUEST_ID.fullmatch(incoming):
        return incoming.decode("ascii")
    return f"{request_id_random.getrandbits(128):032x}"


def request_user_set(user_id: object) -> None:
    """Name the user this request acts for (a bearer token's, a new session's), for its log."""
    context = current_request.get()
    if context is not None:
        context.user_id = str(user_id)


def request_route(request: "HttpRequest") -> str:
    """The route template Django resolved for `request` (`/api/auth/sessions/<session_id>`),
    or UNMATCHED before it did or when no pattern matched: what logs name instead of the raw
    path."""
    match = request.resolver_match
    return "/" + match.route if match is not None and match.route else UNMATCHED


def request_route_set(route: str) -> None:
    context = current_request.get()
    if context is not None:
        context.route = route


class RequestIdFilter(logging.Filter):
    """Give every record a `request_id` attribute: the id of the request being served, or None
    outside any request (start-up, shutdown, the pool's threads)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            context = current_request.get()
            record.request_id = context.id if context is not None else None
        return True
