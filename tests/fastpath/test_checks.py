"""The fast path's system checks: the silenced Django checks are covered, and no view outside
the admin goes without CSRF unnoticed."""

import pytest
from django.core.checks import run_checks
from django.http import HttpResponse
from django.urls import clear_url_caches, path
from ninja import NinjaAPI
from ninja.security import APIKeyCookie

from accounts.auth import session_auth
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


class ForgetfulCookieAuth(APIKeyCookie):
    """A cookie authentication someone might add later, forgetting CSRF."""

    param_name = "remember_me"

    def authenticate(self, request, key):
        return key


cookie_api = NinjaAPI(urls_namespace="cookie-check")


@cookie_api.post("/forgetful", auth=ForgetfulCookieAuth(csrf=False))
def forgetful(request):
    return {}


@cookie_api.post("/ninja-csrf", auth=ForgetfulCookieAuth(csrf=True))
def ninja_csrf(request):
    return {}


@cookie_api.post("/sessions", auth=session_auth)
def our_sessions(request):
    return {}


cookie_urlpatterns = [path("cookies/", cookie_api.urls)]


def test_an_api_operation_authenticated_by_a_cookie_without_csrf_is_an_error(settings):
    settings.ROOT_URLCONF = cookie_urlconf  # Django takes a module, or anything with urlpatterns
    clear_url_caches()
    try:
        found = checks.cookie_authentication_checks_csrf()
    finally:
        clear_url_caches()
    assert [message.id for message in found] == ["fastpath.E003"]
    assert "'cookies/forgetful'" in found[0].msg and "remember_me" in found[0].msg


def test_the_apis_own_operations_all_check_csrf_when_they_take_cookies():
    assert checks.cookie_authentication_checks_csrf() == []


class cookie_urlconf:  # a urlconf module stand-in
    urlpatterns = cookie_urlpatterns
