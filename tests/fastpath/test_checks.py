"""The fast path's system checks: the silenced Django checks are covered, and no view outside
the admin goes without CSRF unnoticed."""

import pytest
from django.core.checks import run_checks
from django.http import HttpResponse
from django.urls import clear_url_caches, path

from fastpath import checks


def errors(settings) -> list[str | None]:
    return [
        message.id
        for message in checks.silenced_checks_are_covered()
        + checks.views_outside_the_admin_need_no_csrf()
    ]


def test_the_fast_path_configuration_passes_its_own_checks(settings):
    if not settings.FAST_PATH:
        pytest.skip("FAST_PATH=off: stock middleware, nothing silenced")
    assert errors(settings) == []
    found = [m.id for m in run_checks(tags=["security"]) if (m.id or "").startswith("fastpath")]
    assert found == []


def test_silencing_a_check_without_its_stand_in_is_an_error(settings):
    settings.SILENCED_SYSTEM_CHECKS = ["security.W001"]
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if "SecurityMiddleware" not in m]
    assert checks.silenced_checks_are_covered()[0].id == "fastpath.E001"


def plain_form_view(request):
    return HttpResponse("a form that trusts cookies")


urlpatterns = [
    path("account/settings/", plain_form_view),
    path("administer/", plain_form_view),  # looks like the admin's prefix, is not under it
]


def test_a_view_outside_the_admin_without_csrf_exempt_is_an_error(settings):
    settings.MIDDLEWARE = [
        m.replace(
            "django.middleware.csrf.CsrfViewMiddleware",
            "fastpath.middleware.AdminOnlyCsrfViewMiddleware",
        )
        for m in settings.MIDDLEWARE
    ]
    settings.ROOT_URLCONF = __name__
    clear_url_caches()
    try:
        found = checks.views_outside_the_admin_need_no_csrf()
    finally:
        clear_url_caches()
    assert [message.id for message in found] == ["fastpath.E002", "fastpath.E002"]
    assert "account/settings/" in found[0].msg
    assert "administer/" in found[1].msg


def test_with_csrf_everywhere_no_view_needs_exempting(settings):
    settings.MIDDLEWARE = ["django.middleware.csrf.CsrfViewMiddleware"]
    settings.ROOT_URLCONF = __name__
    clear_url_caches()
    try:
        assert checks.views_outside_the_admin_need_no_csrf() == []
    finally:
        clear_url_caches()
