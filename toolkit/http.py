"""JSON error responses in the one shape every client parses (`{"detail": "<sentence>"}`), and
the no-store view decorator."""

import functools
import json
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any

from django.http import HttpRequest, HttpResponse

JSON_CONTENT_TYPE = "application/json"
AsyncView = Callable[..., Awaitable[HttpResponse]]


def compact_json(data: Any) -> str:
    """JSON as FastAPI writes it: no spaces after separators."""
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


def json_error(
    status: int, detail: Any = None, *, headers: dict[str, str] | None = None
) -> HttpResponse:
    """An error response; `detail` defaults to the status's standard phrase."""
    if detail is None:
        detail = HTTPStatus(status).phrase
    return HttpResponse(
        compact_json({"detail": detail}),
        status=status,
        content_type=JSON_CONTENT_TYPE,
        headers=headers,
    )


def is_json_response(response: HttpResponse) -> bool:
    content_type = response.get("Content-Type", "").split(";")[0].strip().lower()
    return content_type == JSON_CONTENT_TYPE or content_type.endswith("+json")


def no_store(
    view: Callable[..., Awaitable[HttpResponse]],
) -> Callable[..., Awaitable[HttpResponse]]:
    """Async view decorator: the answer may hold tokens or user data, so no cache keeps it
    (RFC 6749 section 5.1 asks for both headers)."""

    @functools.wraps(view)
    async def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = await view(request, *args, **kwargs)
        response.headers["Cache-Control"] = "no-store"
        response.headers["Pragma"] = "no-cache"
        return response

    return wrapper
