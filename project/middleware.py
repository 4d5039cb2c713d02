"""The service's own middleware: JSON for every error outside the admin (and a Content-Length on
every answer), and an early Host check that lets probes through."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBase

from toolkit.http import is_json_response, json_error
from toolkit.middleware import AsyncMiddleware, GetResponse
from toolkit.request_context import UNMATCHED, request_route, request_route_set

# Headers a JSON rewrite must keep: they carry meaning for the client (retry, auth, CORS, cache).
DROPPED_ON_REWRITE = frozenset({"content-type", "content-length", "content-encoding"})


class JsonErrorMiddleware(AsyncMiddleware):
    """Turn any non-JSON error (ninja's bare 405, a CSRF page, ...) into `{"detail": ...}`.

    Only the admin (`ADMIN_URL_PREFIX`) may answer HTML: operators use it in a browser. Being
    the outermost layer, it also gives every non-streaming answer its Content-Length, as
    Django's CommonMiddleware would (not installed: its Host check would refuse probes by pod
    IP); without it, uvicorn sends every answer chunked.
    """

    def __init__(self, get_response: GetResponse) -> None:
        super().__init__(get_response)
        self.admin_path = f"/{settings.ADMIN_URL_PREFIX}"

    async def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = await self.get_response(request)
        if not response.streaming and not response.has_header("Content-Length"):
            response.headers["Content-Length"] = str(len(response.content))  # type: ignore[attr-defined]
        if (
            response.status_code < 400
            or request.path_info.startswith(self.admin_path)
            or not isinstance(response, HttpResponse)
            or is_json_response(response)
        ):
            return response
        rewritten = json_error(response.status_code)
        for header, value in response.headers.items():
            if header.lower() not in DROPPED_ON_REWRITE:
                rewritten.headers[header] = value
        rewritten.headers["Content-Length"] = str(len(rewritten.content))
        return rewritten


class AllowedHostsMiddleware(AsyncMiddleware):
    """Validate `Host` against ALLOWED_HOSTS for every path but the probes.

    Django checks the host lazily, whenever something calls `request.get_host()`; this makes the
    check explicit and early, and lets Kubernetes probes reach `/health` by pod IP.
    """

    async def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if request.path_info not in settings.HOST_CHECK_EXEMPT_PATHS:
            request.get_host()  # raises DisallowedHost -> handler400, a JSON 400
        return await self.get_response(request)


class RequestRouteMiddleware(AsyncMiddleware):
    """Tell the access log and the request metrics which route template served the request
    (`/api/auth/me`, `/admin/accounts/user/<path:object_id>/change/`), never the raw path.

    Django resolves the URL after every middleware has been entered, so the match is read on
    the way out. Async-native: on the event loop, no thread hop, on the fast path and off it.
    """

    async def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = await self.get_response(request)
        route = request_route(request)
        if route != UNMATCHED:
            request_route_set(route)
        return response
