"""The Django (and psycopg_pool, django-cors-headers, prometheus-client, uvicorn) source each
fast-path piece copies or depends on, with a fingerprint of that source as this code was ported
from. An upgrade that changes one of them fails tests/fastpath/test_mirrors.py with the piece
to re-port."""

import hashlib
import importlib
import inspect
from dataclasses import dataclass


@dataclass(frozen=True)
class Mirror:
    source: str  # dotted path of the upstream function
    fingerprint: str  # sha256 of its source, first 16 hex digits
    ours: str  # what to re-port when it changes


MIRRORED = [
    Mirror(
        "django.core.handlers.asgi.ASGIHandler.__call__",
        "f756809e9c9308dc",
        "fastpath.handlers.WarmThreadASGIHandler.__call__",
    ),
    Mirror(
        "django.core.handlers.asgi.ASGIHandler.handle",
        "c91f27c7fcdc3fff",
        "fastpath.handlers.WarmThreadASGIHandler.handle and respond_unless_disconnected",
    ),
    Mirror(
        "django.core.handlers.base.BaseHandler.resolve_request",
        "ff178c3d63eebcd3",
        "fastpath.routes.request_resolve",
    ),
    Mirror(
        "django.urls.resolvers.ResolverMatch.__init__",
        "5269b34fe816da14",
        "fastpath.routes.match_copy (the attributes it copies)",
    ),
    Mirror(
        "django.http.response.HttpResponseBase.close",
        "84589f5b23acbb23",
        "fastpath.handlers.response_close_quietly",
    ),
    Mirror(
        "django.utils.deprecation.MiddlewareMixin.__acall__",
        "adf8cbcaf9f11e45",
        "fastpath.middleware.InlineMiddlewareMixin.__acall__",
    ),
    Mirror(
        "django.db.models.query.ModelIterable.__iter__",
        "ecb74201bf2b1945",
        "fastpath.lookups.CompiledPkLookup.get",
    ),
    Mirror(
        "django.db.models.query.RelatedPopulator.populate",
        "18ad7db51aeccf14",
        "fastpath.lookups.CompiledPkLookup.get",
    ),
    Mirror(
        "django.db.backends.postgresql.base.DatabaseWrapper.pool",
        "4aca033570ecd5c4",
        "fastpath.pool.connection_check (Django must still pass OPTIONS['pool']['check'])",
    ),
    Mirror(
        "corsheaders.middleware.CorsMiddleware.add_response_headers",
        "aa861e23df0575ba",
        "fastpath.middleware.CorsMiddleware.add_response_headers (the answer without Origin)",
    ),
    Mirror(
        "corsheaders.middleware.CorsMiddleware._url_in_whitelist",
        "0bd142a651c05950",
        "fastpath.middleware.allowed_origins",
    ),
    # Not fast-path pieces, but copied the same way: the request metrics' batched writes, and
    # the bounded protocol's read loop.
    Mirror(
        "prometheus_client.metrics.Histogram.observe",
        "38beca3be1d1595b",
        "toolkit.metrics.AnsweredRequests (its bucket choice and writes)",
    ),
    Mirror(
        "prometheus_client.metrics.Histogram._metric_init",
        "61aeac1b768d4786",
        "toolkit.metrics.AnsweredRequests.write (the `_sum` and `_buckets` it writes)",
    ),
    Mirror(
        "uvicorn.protocols.http.httptools_impl.HttpToolsProtocol.data_received",
        "010a7ae59a5d3b1a",
        "server.protocol.BoundedHttpToolsProtocol.data_received",
    ),
]


def resolve(dotted: str) -> object:
    """`package.module.Class.attribute` to the object (properties to their getter)."""
    parts = dotted.split(".")
    for split in range(len(parts) - 1, 0, -1):
        try:
            target: object = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        for name in parts[split:]:
            target = inspect.getattr_static(target, name)
        if isinstance(target, property):
            target = target.fget
        elif isinstance(target, staticmethod | classmethod):
            target = target.__func__
        return target
    raise ImportError(dotted)


def fingerprint(dotted: str) -> str:
    source = inspect.getsource(resolve(dotted))  # type: ignore[arg-type]
    return hashlib.sha256(source.encode()).hexdigest()[:16]
