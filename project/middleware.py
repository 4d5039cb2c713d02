"""Async-native middleware: JSON errors, the Host check, and async stand-ins for Django's own."""

from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import markcoroutinefunction, sync_to_async
from django.conf import settings
from django.contrib.auth import middleware as auth_middleware
from django.contrib.messages import middleware as messages_middleware
from django.contrib.sessions import middleware as session_middleware
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.middleware import clickjacking, csrf, security

from project.http import is_json_response, json_error

GetResponse = Callable[[HttpRequest], Awaitable[HttpResponseBase]]
# Headers a JSON rewrite must keep: they carry meaning for the client (retry, auth, CORS, cache).
DROPPED_ON_REWRITE = frozenset({"content-type", "content-length", "content-encoding"})


class AsyncMiddleware:
    sync_capable = False
    async_capable = True

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response
        markcoroutinefunction(self)  # type: ignore[type-var]  # Django checks the instance


class JsonErrorMiddleware(AsyncMiddleware):
    """Turn any non-JSON error (ninja's bare 405, a CSRF page, ...) into `{"detail": ...}`.

    Only `/admin/` may answer HTML: operators use it in a browser.
    """

    async def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = await self.get_response(request)
        if (
            response.status_code < 400
            or request.path.startswith("/admin/")
            or not isinstance(response, HttpResponse)
            or is_json_response(response)
        ):
            return response
        rewritten = json_error(response.status_code)
        for header, value in response.headers.items():
            if header.lower() not in DROPPED_ON_REWRITE:
                rewritten.headers[header] = value
        return rewritten


class AllowedHostsMiddleware(AsyncMiddleware):
    """Validate `Host` against ALLOWED_HOSTS for every path but the probes.

    Django checks the host lazily, whenever something calls `request.get_host()`; this makes the
    check explicit and early, and lets Kubernetes probes reach `/health` by pod IP.
    """

    async def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if request.path not in settings.HOST_CHECK_EXEMPT_PATHS:
            request.get_host()  # raises DisallowedHost -> handler400, a JSON 400
        return await self.get_response(request)


# --- Async-native stand-ins for Django's own middleware ------------------------------------------
# Django's MiddlewareMixin runs process_request/process_response through sync_to_async: two thread
# hops per middleware per request. The subclasses below keep Django's logic and only change how it
# is called; tests in tests/project/test_middleware.py pin that they behave like the originals.

ADMIN_PREFIX = "/admin/"


class InlineMiddlewareMixin:
    """Call process_request/process_response on the event loop. Only for middleware whose hooks
    do no I/O: SecurityMiddleware and XFrameOptionsMiddleware only read settings and set headers."""

    get_response: Any

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        response = None
        if hasattr(self, "process_request"):
            response = self.process_request(request)
        response = response or await self.get_response(request)
        if hasattr(self, "process_response"):
            response = self.process_response(request, response)
        return response


class AdminOnlyMixin:
    """Run the wrapped middleware for the admin only. The API authenticates with bearer tokens:
    it needs no session, CSRF cookie, request.user or messages, so its requests pass straight
    through. Under /admin/ the middleware runs exactly as Django's."""

    get_response: Any

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        if not request.path.startswith(ADMIN_PREFIX):
            return await self.get_response(request)
        return await super().__acall__(request)  # type: ignore[misc]


class SecurityMiddleware(InlineMiddlewareMixin, security.SecurityMiddleware):
    pass


class XFrameOptionsMiddleware(InlineMiddlewareMixin, clickjacking.XFrameOptionsMiddleware):
    pass


class SessionMiddleware(AdminOnlyMixin, session_middleware.SessionMiddleware):
    pass


class CsrfViewMiddleware(AdminOnlyMixin, csrf.CsrfViewMiddleware):
    async def process_view(  # type: ignore[override]  # Django awaits an async hook as is
        self,
        request: HttpRequest,
        callback: Callable[..., Any],
        callback_args: tuple[Any, ...],
        callback_kwargs: dict[str, Any],
    ) -> HttpResponseBase | None:
        # Django adapts a sync process_view with a thread hop on every request; the API's views
        # are all csrf_exempt anyway, so only the admin's go to Django's check (on the thread).
        if not request.path.startswith(ADMIN_PREFIX):
            return None
        check = sync_to_async(super().process_view)
        return await check(request, callback, callback_args, callback_kwargs)


class AuthenticationMiddleware(AdminOnlyMixin, auth_middleware.AuthenticationMiddleware):
    pass


class MessageMiddleware(AdminOnlyMixin, messages_middleware.MessageMiddleware):
    pass
