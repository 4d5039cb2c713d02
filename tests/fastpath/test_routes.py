"""fastpath.routes: a remembered resolution is the resolution Django makes, each request gets a
match of its own, 404s are never remembered, and a request's own URLconf or a new ROOT_URLCONF
is honoured."""

import pytest
from django.test import RequestFactory
from django.urls import Resolver404, clear_url_caches, get_resolver

from fastpath.routes import path_resolved, request_resolve

ATTRIBUTES = (
    "func",
    "args",
    "kwargs",
    "url_name",
    "route",
    "view_name",
    "app_names",
    "namespaces",
    "captured_kwargs",
    "extra_kwargs",
    "_func_path",
)


def request_for(path: str):
    return RequestFactory().get(path)


@pytest.mark.parametrize(
    "path",
    [
        "/health",
        "/api/auth/me",
        "/api/auth/sessions/6f1c34a9-0d3b-4f8e-9d2a-1b2c3d4e5f60",
        "/metrics",
        "/admin/login/",
    ],
)
def test_a_remembered_match_is_the_one_django_makes(path):
    expected = get_resolver().resolve(path)
    for _ in range(2):  # resolved, then remembered
        request = request_for(path)
        match = request_resolve(request)
        assert request.resolver_match is match
        for name in ATTRIBUTES:
            assert getattr(match, name) == getattr(expected, name), name


def test_each_request_gets_kwargs_of_its_own():
    path = "/api/auth/sessions/6f1c34a9-0d3b-4f8e-9d2a-1b2c3d4e5f60"
    first = request_resolve(request_for(path))
    first.kwargs["session_id"] = "tampered"
    first.kwargs["extra"] = 1
    second = request_resolve(request_for(path))
    assert second.kwargs == {"session_id": "6f1c34a9-0d3b-4f8e-9d2a-1b2c3d4e5f60"}
    assert second is not first


def test_a_path_that_matches_nothing_is_not_remembered():
    path_resolved.cache_clear()
    for _ in range(3):
        with pytest.raises(Resolver404):
            request_resolve(request_for("/no/such/page"))
    assert path_resolved.cache_info().currsize == 0


def test_a_requests_own_urlconf_is_used(settings):
    request = request_for("/slow")
    request.urlconf = "tests.support.slow_urls"
    assert request_resolve(request).route == "slow"
    with pytest.raises(Resolver404):
        request_resolve(request_for("/slow"))  # not under the default URLconf


def test_a_new_root_urlconf_resolves_afresh(settings):
    assert request_resolve(request_for("/health")).route == "health"
    settings.ROOT_URLCONF = "tests.support.slow_urls"
    clear_url_caches()
    try:
        with pytest.raises(Resolver404):
            request_resolve(request_for("/health"))
        assert request_resolve(request_for("/slow")).route == "slow"
    finally:
        settings.ROOT_URLCONF = "project.urls"
        clear_url_caches()
