"""URL resolution remembered per path: what BaseHandler.resolve_request does, for the default
URLconf, without walking the patterns on every request.

Django's resolver tries each pattern in order and records every one it passed (the `tried`
list its 404 page shows), so a route late in the API's list (`/api/auth/me` is the 26th) cost
tens of microseconds a request, more than a tenth of a `/health` probe. A path resolves the
same way until the URLconf changes, and a new URLconf is a new resolver (get_resolver's cache
is cleared when ROOT_URLCONF changes), so the resolver is part of the key. Only matches are
remembered (a 404 is resolved again each time), at most ROUTES_REMEMBERED of them, least
recently used first out; paths with an id in them (`/api/auth/sessions/<id>`) take their turn
like any other. Each request gets its own copy of the match, so nothing a view or middleware
does to its kwargs reaches the next request.
"""

from functools import lru_cache
from typing import Any

from django.http import HttpRequest
from django.urls import get_resolver, set_urlconf
from django.urls.resolvers import ResolverMatch, URLResolver

ROUTES_REMEMBERED = 1024


@lru_cache(maxsize=ROUTES_REMEMBERED)
def path_resolved(resolver: URLResolver, path: str) -> ResolverMatch:
    return resolver.resolve(path)


def match_copy(match: ResolverMatch) -> ResolverMatch:
    """A ResolverMatch with the same attributes and dicts of its own (no constructor: it would
    recompute the names it already holds)."""
    copy: Any = object.__new__(ResolverMatch)
    copy.__dict__.update(match.__dict__)
    copy.kwargs = dict(match.kwargs)
    if copy.captured_kwargs is not None:
        copy.captured_kwargs = dict(copy.captured_kwargs)
    if copy.extra_kwargs is not None:
        copy.extra_kwargs = dict(copy.extra_kwargs)
    return copy  # type: ignore[no-any-return]


def request_resolve(request: HttpRequest) -> ResolverMatch:
    """BaseHandler.resolve_request (fastpath.mirrors), remembered for the default URLconf."""
    if hasattr(request, "urlconf"):
        urlconf = request.urlconf
        set_urlconf(urlconf)
        match = get_resolver(urlconf).resolve(request.path_info)
    else:
        match = match_copy(path_resolved(get_resolver(), request.path_info))
    request.resolver_match = match
    return match
