"""How a session travels: in the JSON body (bearer clients), or in two HttpOnly cookies a script
cannot read (browser apps, `X-Auth-Transport: cookie`), and the CSRF rule that cookies need.

A route that answers a session is decorated with `session_transport`: when the request asked
for cookies, `accounts.responses.session_out` leaves the refresh token out of the body and the
decorator sets both cookies on the answer. Refresh and sign-out are decorated with
`session_transport_ending`, which also clears both cookies when they end or refuse a session;
account deletion with `session_transport_closing`, which clears them when it succeeds.
Bearer clients (no header, no cookie of ours) see no change. Those routes also declare
`transport: TransportHeader = None`, so that ninja documents the header and refuses a value
other than `cookie` or `bearer`; the value itself is read here (cookies_wanted).
"""

import functools
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Literal

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from ninja import Header
from ninja.decorators import decorate_view

from accounts.exceptions import CsrfFailed
from accounts.flows.issue import IssuedSession

TRANSPORT_HEADER = "X-Auth-Transport"
ACCESS_COOKIE = "__Host-access"
REFRESH_COOKIE = "__Host-refresh"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Where session_out leaves the session it answered, for the decorator to put in cookies.
ISSUED = "_session_issued"

View = Callable[..., Awaitable[HttpResponse]]


def cookies_wanted(request: HttpRequest) -> bool:
    """Whether the client asked for the cookie transport (`X-Auth-Transport: cookie`)."""
    return request.headers.get(TRANSPORT_HEADER, "").strip().lower() == "cookie"


def csrf_ensure(request: HttpRequest) -> None:
    """The rule for a request authenticated by one of our cookies: with any method but GET,
    HEAD and OPTIONS it must carry `X-Auth-Transport: cookie` (a cross-site form cannot send a
    header, and a cross-origin script cannot without a CORS preflight the API refuses) and,
    when it has an `Origin`, one in CORS_ORIGINS or the API's own. Else CsrfFailed (403)."""
    if request.method in SAFE_METHODS:
        return
    if not cookies_wanted(request):
        raise CsrfFailed
    origin = request.headers.get("Origin")
    if origin is None:
        return
    own = f"{request.scheme}://{request.get_host()}"
    if origin != own and origin not in settings.CORS_ALLOWED_ORIGINS:
        raise CsrfFailed


def cookie_of(request: HttpRequest, name: str) -> str | None:
    """One of our cookies, after the CSRF rule (csrf_ensure): None when it was not sent."""
    value = request.COOKIES.get(name, "").strip()
    if not value:
        return None
    csrf_ensure(request)
    return value


def session_issued_remember(request: HttpRequest, issued: IssuedSession) -> bool:
    """Keep the session this request answers for the decorator; say whether its refresh token
    goes in a cookie (and so stays out of the body)."""
    if not cookies_wanted(request):
        return False
    setattr(request, ISSUED, issued)
    return True


def cookies_set(response: HttpResponse, issued: IssuedSession) -> None:
    # `__Host-`: Secure, Path=/ and no Domain, or the browser refuses the cookie.
    for name, value, max_age in (
        (ACCESS_COOKIE, issued.access_token, settings.ACCESS_TOKEN_TTL),
        (REFRESH_COOKIE, issued.refresh_token, settings.REFRESH_TOKEN_TTL),
    ):
        response.set_cookie(
            name, value, max_age=max_age, path="/", secure=True, httponly=True, samesite="Lax"
        )


def cookies_clear(response: HttpResponse) -> None:
    for name in (ACCESS_COOKIE, REFRESH_COOKIE):
        response.set_cookie(
            name, "", max_age=0, path="/", secure=True, httponly=True, samesite="Lax"
        )


def cookie_mode(request: HttpRequest) -> bool:
    """The client asked for cookies, or sent one of ours."""
    return cookies_wanted(request) or any(
        name in request.COOKIES for name in (ACCESS_COOKIE, REFRESH_COOKIE)
    )


def transported(*, clearing: frozenset[int] = frozenset()) -> Callable[[View], View]:
    """Set the cookies of a session the view answered; clear both on a status in `clearing`."""

    def decorator(run: View) -> View:
        @functools.wraps(run)
        async def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            response = await run(request, *args, **kwargs)
            issued: IssuedSession | None = getattr(request, ISSUED, None)
            if issued is not None and response.status_code < 300:
                cookies_set(response, issued)
            elif response.status_code in clearing and cookie_mode(request):
                # Signed out, a refresh refused, an account deleted: the cookies are dead. (A
                # 403 CSRF refusal comes from a page that has no business touching them.)
                cookies_clear(response)
            return response

        return wrapper

    return decorator


def session_transport[V: Callable[..., Any]](view: V) -> V:
    """For a route that answers a session: the cookies when asked for."""
    return decorate_view(transported())(view)


def session_transport_ending[V: Callable[..., Any]](view: V) -> V:
    """For refresh and sign-out: as session_transport, and both cookies cleared when the
    answer is a sign-out or a refused refresh."""
    return decorate_view(transported(clearing=frozenset({200, 401})))(view)


def session_transport_closing[V: Callable[..., Any]](view: V) -> V:
    """For account deletion: both cookies cleared when it succeeds (202). Not on a 401: a
    session that must re-authenticate first is still alive."""
    return decorate_view(transported(clearing=frozenset({202})))(view)


# What the OpenAPI document says of these routes (private_route's `openapi`).
# The header as a route parameter: ninja documents it and refuses another value (422), so a
# typo in a browser app ("cookies") fails loudly instead of answering tokens in the body.
TransportHeader = Annotated[
    Literal["cookie", "bearer"] | None,
    Header(
        alias=TRANSPORT_HEADER,
        description="`cookie`: the session goes in two HttpOnly cookies (`__Host-access`, "
        "`__Host-refresh`) and the refresh token stays out of the body; for browser apps. "
        "`bearer` (or no header): everything in the body.",
    ),
]
SET_COOKIE_HEADER = {"$ref": "#/components/headers/Set-Cookie"}  # toolkit.openapi.SET_COOKIE
REFRESH_COOKIE_PARAMETER = {
    "in": "cookie",
    "name": REFRESH_COOKIE,
    "required": False,
    "description": "The refresh token, when the body carries none (cookie mode).",
    "schema": {"type": "string"},
}


def transport_openapi(status: int, *, refresh_cookie: bool = False) -> dict[str, Any]:
    """The refresh cookie (refresh, sign-out) and the cookies set or cleared."""
    parameters = []
    responses: dict[str, Any] = {str(status): {"headers": {"Set-Cookie": SET_COOKIE_HEADER}}}
    if refresh_cookie:
        parameters.append(REFRESH_COOKIE_PARAMETER)
        responses["401"] = {"headers": {"Set-Cookie": SET_COOKIE_HEADER}}
    return {"parameters": parameters, "responses": responses}
