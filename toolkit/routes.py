"""The declaration every route that answers tokens or user data repeats, in one place."""

from collections.abc import Callable, Iterable
from typing import Any

from ninja.decorators import decorate_view

from toolkit.http import no_store
from toolkit.openapi import NO_STORE
from toolkit.schemas import ErrorOut, ValidationErrorOut

# Every route may refuse the request's Host (400) and answer 503 when the database is away.
ANY: dict[int, Any] = {400: ErrorOut, 503: ErrorOut}
# A route that reads a body may also refuse it: too large, not JSON, or not valid.
WITH_BODY: dict[int, Any] = {**ANY, 413: ErrorOut, 415: ErrorOut, 422: ValidationErrorOut}


def private_route[View: Callable[..., Any]](
    operation: Callable[..., Callable[[View], View]],
    path: str,
    answers: dict[int, Any],
    *,
    refusals: Iterable[int] = (),
    body: bool = False,
    **options: Any,
) -> Callable[[View], View]:
    """`operation(path, ...)` (a router's `get`, `post` or `delete`) for a route whose answers
    carry tokens or user data, so that no cache keeps them (RFC 6749 section 5.1): every answer
    says `Cache-Control: no-store` (toolkit.http.no_store) and the document says so too
    (toolkit.openapi.NO_STORE).

    The document lists `answers`, a `{"detail"}` answer for each status of `refusals` (401, 403,
    404, 409, 429), and what any route may answer: ANY, or WITH_BODY when it reads a body.
    `options` are ninja's (auth, summary, description).
    """
    route = operation(
        path,
        response={**answers, **dict.fromkeys(refusals, ErrorOut), **(WITH_BODY if body else ANY)},
        openapi_extra={NO_STORE: True},
        **options,
    )

    def declare(view: View) -> View:
        return route(decorate_view(no_store)(view))

    return declare
