"""Async-native stand-ins for Django's own middleware.

Django's MiddlewareMixin runs `process_request`/`process_response` through `sync_to_async`: two
thread hops per middleware per request. These subclasses keep Django's logic and change only how
it is called (tests/fastpath/test_middleware.py pins that they behave like the originals):

- `SecurityMiddleware`, `XFrameOptionsMiddleware`: their hooks only read settings and set
  headers, so they run on the event loop (`InlineMiddlewareMixin`, a copy of
  `MiddlewareMixin.__acall__` without the hops).
- `CorsMiddleware`: django-cors-headers' own (already async-native), with two costs of every
  request taken out: a request without `Origin` (probes, servers, same-origin reads) only gains
  `Vary: origin`, set without building `request.headers` or re-splitting a `Vary` header that
  is not there; and CORS_ALLOWED_ORIGINS is parsed once per value, not on every request that
  sends an `Origin`.
- `AdminOnly...`: session, CSRF, authentication and messages serve the admin alone (the API
  authenticates with bearer tokens: no cookie, no CSRF, no `request.user`). Under
  `ADMIN_URL_PREFIX` they run exactly as Django's; elsewhere requests pass straight through.
  The system check `fastpath.E002` refuses a view outside the admin that is not csrf_exempt, so
  a cookie-based view added later cannot silently go without a CSRF check.
"""

from collections.abc import Callable
from functools import lru_cache
from typing import Any
from urllib.parse import SplitResult, urlsplit

from asgiref.sync import sync_to_async
from corsheaders import middleware as cors_middleware
from corsheaders.conf import conf as cors_conf
from django.conf import settings
from django.contrib.auth import middleware as auth_middleware
from django.contrib.messages import middleware as messages_middleware
from django.contrib.sessions import middleware as session_middleware
from django.http import HttpRequest, HttpResponseBase
from django.middleware import clickjacking, csrf, security
from django.utils.cache import patch_vary_headers


def admin_path() -> str:
    return f"/{settings.ADMIN_URL_PREFIX}"


class InlineMiddlewareMixin:
    """`MiddlewareMixin.__acall__` with the hooks called on the event loop. Only for middleware
    whose hooks do no I/O."""

    get_response: Any

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        response = None
        if hasattr(self, "process_request"):
            response = self.process_request(request)
        response = response or await self.get_response(request)
        if hasattr(self, "process_response"):
            response = self.process_response(request, response)
        return response  # type: ignore[no-any-return]  # Django's hooks are untyped


class AdminOnlyMixin:
    """Run the wrapped middleware for requests under ADMIN_URL_PREFIX only."""

    admin_only = True  # what fastpath.checks looks for
    get_response: Any

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        if not request.path_info.startswith(admin_path()):
            return await self.get_response(request)  # type: ignore[no-any-return]
        return await super().__acall__(request)  # type: ignore[misc,no-any-return]


class SecurityMiddleware(InlineMiddlewareMixin, security.SecurityMiddleware):
    pass


class XFrameOptionsMiddleware(InlineMiddlewareMixin, clickjacking.XFrameOptionsMiddleware):
    pass


class CorsMiddleware(cors_middleware.CorsMiddleware):
    def add_response_headers(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        if request.META.get("HTTP_ORIGIN"):
            return super().add_response_headers(request, response)
        # Without an Origin, django-cors-headers adds `origin` to Vary (where CORS is enabled
        # for the URL) and nothing else.
        enabled = getattr(request, "_cors_enabled", None)
        if enabled is None:
            enabled = self.is_enabled(request)
        if enabled:
            if response.has_header("Vary"):
                patch_vary_headers(response, ("origin",))
            else:
                response.headers["Vary"] = "origin"
        return response

    def _url_in_whitelist(self, url: SplitResult) -> bool:
        return (url.scheme, url.netloc) in allowed_origins(tuple(cors_conf.CORS_ALLOWED_ORIGINS))


@lru_cache(maxsize=8)
def allowed_origins(origins: tuple[str, ...]) -> frozenset[tuple[str, str]]:
    """CORS_ALLOWED_ORIGINS as django-cors-headers compares them: (scheme, netloc) pairs."""
    return frozenset((parts.scheme, parts.netloc) for parts in map(urlsplit, origins))


class AdminOnlySessionMiddleware(AdminOnlyMixin, session_middleware.SessionMiddleware):
    pass


class AdminOnlyCsrfViewMiddleware(AdminOnlyMixin, csrf.CsrfViewMiddleware):
    async def process_view(  # type: ignore[override]  # Django awaits an async hook as is
        self,
        request: HttpRequest,
        callback: Callable[..., Any],
        callback_args: tuple[Any, ...],
        callback_kwargs: dict[str, Any],
    ) -> HttpResponseBase | None:
        # Django adapts a sync process_view with a thread hop on every request; outside the
        # admin every view is csrf_exempt (system check fastpath.E002), so only the admin's go
        # to Django's check, on the request's thread.
        if not request.path_info.startswith(admin_path()):
            return None
        check = sync_to_async(super().process_view)
        return await check(request, callback, callback_args, callback_kwargs)


class AdminOnlyAuthenticationMiddleware(AdminOnlyMixin, auth_middleware.AuthenticationMiddleware):
    pass


class AdminOnlyMessageMiddleware(AdminOnlyMixin, messages_middleware.MessageMiddleware):
    pass
