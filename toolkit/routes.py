"""The declaration every route that answers tokens or user data repeats, in one place:

@private_route(router.post, "/signin", {200: SessionOut}, refusals=(401, 429), body=True)
@summary("Sign in with email and password")
async def signin(request: HttpRequest, payload: SigninIn) -> dict[str, object]: ...
"""

from collections.abc import Callable, Iterable
from typing import Any

from ninja.constants import NOT_SET
from ninja.decorators import decorate_view

from toolkit.http import no_store
from toolkit.openapi import NO_STORE
from toolkit.schemas import ErrorOut, ValidationErrorOut

# Every route may refuse the request's Host (400) and answer 503 when the database is away.
ANY: dict[int, Any] = {400: ErrorOut, 503: ErrorOut}
# A route that reads a body may also refuse it: too large, not JSON, or not valid.
WITH_BODY: dict[int, Any] = {**ANY, 413: ErrorOut, 415: ErrorOut, 422: ValidationErrorOut}
SUMMARY = "openapi_summary"  # the attribute `summary` leaves on a view for private_route


def summary[View: Callable[..., Any]](
    text: str, *, description: str | None = None
) -> Callable[[View], View]:
    """What the document says of a route declared by private_route (the decorator below it)."""

    def attach(view: View) -> View:
        setattr(view, SUMMARY, (text, description))
        return view

    return attach


def private_route[View: Callable[..., Any]](
    operation: Callable[..., Callable[[View], View]],
    path: str,
    answers: dict[int, Any],
    *,
    refusals: Iterable[int] = (),
    body: bool = False,
    auth: Any = NOT_SET,
    openapi: dict[str, Any] | None = None,
) -> Callable[[View], View]:
    """`operation(path, ...)` (a router's `get`, `post` or `delete`) for a route whose answers
    carry tokens or user data, so that no cache keeps them (RFC 6749 section 5.1): every answer
    says `Cache-Control: no-store` (toolkit.http.no_store) and the document says so too
    (toolkit.openapi.NO_STORE).

    The document lists `answers`, a `{"detail"}` answer for each status of `refusals` (401, 403,
    404, 409, 429; 401 goes without saying for a route with `auth`), and what any route may
    answer: ANY, or WITH_BODY when it reads a body; its summary comes from `@summary` on the
    view. `auth` is ninja's (unset: anyone may call). `openapi` is merged into the operation's
    document (parameters and response headers ninja cannot infer).
    """
    if auth is not NOT_SET:
        refusals = (401, *refusals)  # no credentials, or refused ones
        if operation.__name__ != "get":
            refusals = (*refusals, 403)  # credentials from a cookie that fail the CSRF rule
    response = {**answers, **dict.fromkeys(refusals, ErrorOut), **(WITH_BODY if body else ANY)}

    def declare(view: View) -> View:
        text, description = getattr(view, SUMMARY)  # AttributeError: @summary is missing
        route = operation(
            path,
            auth=auth,
            response=response,
            summary=text,
            description=description,
            openapi_extra={NO_STORE: True, **(openapi or {})},
        )
        return route(decorate_view(no_store)(view))

    return declare
