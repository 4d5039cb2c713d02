"""System checks that stand in for the Django checks the fast path silences.

Django's security.W001 (SecurityMiddleware), W002 (XFrameOptionsMiddleware) and W003
(CsrfViewMiddleware) look for Django's exact classes in MIDDLEWARE, so the fast path's
subclasses trip them. Instead of trusting the silence, these checks prove what it stands for:

- fastpath.E001: each silenced check's middleware is installed as a subclass of Django's class.
- fastpath.E002: every URL outside ADMIN_URL_PREFIX is csrf_exempt, because the fast path's CSRF
  middleware only runs under the admin: a cookie-based view added elsewhere would otherwise go
  without a CSRF check, silently.
- fastpath.E003: ninja marks all its views csrf_exempt, so E002 cannot see an API operation that
  authenticates with a cookie. Every such authentication (a ninja `APIKeyCookie`, which includes
  `SessionAuth`) must check CSRF itself: ninja's own check (`csrf=True`), or the API's rule for
  its session cookies (a class that says `enforces_csrf_rule = True`, as accounts.auth's do).
"""

import contextlib
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, register
from django.middleware import clickjacking, csrf, security
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils.module_loading import import_string
from ninja.operation import PathView
from ninja.security import APIKeyCookie

# Read-only views that have no form to forge: ninja's schema, docs page and root.
READ_ONLY_VIEW_MODULES = ("ninja.openapi.views",)

GUARDED = {
    "security.W001": security.SecurityMiddleware,
    "security.W002": clickjacking.XFrameOptionsMiddleware,
    "security.W003": csrf.CsrfViewMiddleware,
}


def installed_middleware() -> list[type]:
    return [import_string(path) for path in settings.MIDDLEWARE]


@register(Tags.security)
def silenced_checks_are_covered(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    errors: list[CheckMessage] = []
    installed = installed_middleware()
    for check, middleware in GUARDED.items():
        if check not in settings.SILENCED_SYSTEM_CHECKS:
            continue
        if not any(issubclass(cls, middleware) for cls in installed):
            errors.append(
                Error(
                    f"{check} is silenced, but no subclass of "
                    f"{middleware.__module__}.{middleware.__name__} is in MIDDLEWARE.",
                    hint="Install the fast path's stand-in, or stop silencing the check.",
                    id="fastpath.E001",
                )
            )
    return errors


def needs_no_csrf(view: Any) -> bool:
    target = getattr(view, "func", view)  # functools.partial, as ninja builds its own views
    return bool(getattr(view, "csrf_exempt", False)) or (
        getattr(target, "__module__", "") in READ_ONLY_VIEW_MODULES
    )


def is_admin_route(route: str) -> bool:
    """Under ADMIN_URL_PREFIX (`admin/...`), or the bare `admin` redirect; not `administer/`."""
    prefix = settings.ADMIN_URL_PREFIX
    return route.startswith(prefix) or route == prefix.rstrip("/")


def url_patterns(resolver: URLResolver, prefix: str = "") -> Iterator[tuple[str, Any]]:
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from url_patterns(entry, route)
        elif isinstance(entry, URLPattern):
            yield route, entry.callback


@register(Tags.security, Tags.urls)
def views_outside_the_admin_need_no_csrf(
    app_configs: Any = None, **kwargs: Any
) -> list[CheckMessage]:
    csrf_everywhere = any(
        issubclass(cls, csrf.CsrfViewMiddleware) and not hasattr(cls, "admin_only")
        for cls in installed_middleware()
    )
    if csrf_everywhere:
        return []
    return [
        Error(
            f"The view at {route!r} is not csrf_exempt, but CSRF is checked only under "
            f"/{settings.ADMIN_URL_PREFIX} on the fast path.",
            hint="Mark it csrf_exempt (token-authenticated), serve it under the admin, or "
            "run with FAST_PATH=off.",
            id="fastpath.E002",
        )
        for route, view in url_patterns(get_resolver())
        if not is_admin_route(route) and not needs_no_csrf(view)
    ]


def path_view_of(view: Any) -> PathView | None:
    """The ninja PathView behind a URL's view (ninja's wrapper closes over it), else None."""
    for cell in getattr(view, "__closure__", None) or ():
        with contextlib.suppress(ValueError):  # an empty cell
            if isinstance(cell.cell_contents, PathView):
                return cell.cell_contents
    return None


def checks_csrf(auth: Any) -> bool:
    return bool(getattr(auth, "csrf", False) or getattr(auth, "enforces_csrf_rule", False))


@register(Tags.security, Tags.urls)
def cookie_authentication_checks_csrf(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    errors: list[CheckMessage] = []
    for route, view in url_patterns(get_resolver()):
        path_view = path_view_of(view)
        if path_view is None:
            continue
        for operation in path_view.operations:
            for auth in operation.auth_callbacks:
                if isinstance(auth, APIKeyCookie) and not checks_csrf(auth):
                    errors.append(
                        Error(
                            f"{', '.join(operation.methods)} {route!r} authenticates with the "
                            f"{auth.param_name!r} cookie and checks no CSRF.",
                            hint="Use accounts.auth's session_auth (the API's CSRF rule), or "
                            "ninja's cookie authentication with csrf=True.",
                            id="fastpath.E003",
                        )
                    )
    return errors
