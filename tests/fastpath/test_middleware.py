"""The async stand-ins for Django's middleware behave like Django's own."""

import inspect

import pytest
from corsheaders.middleware import CorsMiddleware as DjangoCorsMiddleware
from corsheaders.signals import check_request_enabled
from django.contrib.sessions.middleware import SessionMiddleware as DjangoSessionMiddleware
from django.http import HttpResponse
from django.middleware.clickjacking import XFrameOptionsMiddleware as DjangoXFrameOptions
from django.middleware.security import SecurityMiddleware as DjangoSecurityMiddleware
from django.test import RequestFactory
from django.utils.module_loading import import_string

from fastpath import MIDDLEWARE_STAND_INS, middleware

pytestmark = pytest.mark.django_db(transaction=True)


async def respond(request):
    return HttpResponse("ok")


async def call(middleware_instance, request):
    result = middleware_instance(request)
    return await result if inspect.isawaitable(result) else result


@pytest.mark.parametrize(
    ("ours", "djangos"),
    [
        (middleware.SecurityMiddleware, DjangoSecurityMiddleware),
        (middleware.XFrameOptionsMiddleware, DjangoXFrameOptions),
    ],
)
@pytest.mark.parametrize("secure", [False, True])
async def test_inline_middleware_sets_the_same_headers_as_djangos(ours, djangos, secure, settings):
    settings.SECURE_HSTS_SECONDS = 3600
    settings.SECURE_SSL_REDIRECT = secure
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    factory = RequestFactory()
    for headers in ({}, {"X-Forwarded-Proto": "https"}):
        ours_response = await call(ours(respond), factory.get("/api/x", headers=headers))
        django_response = await call(djangos(respond), factory.get("/api/x", headers=headers))
        assert ours_response.status_code == django_response.status_code
        assert dict(ours_response.headers) == dict(django_response.headers)


async def test_session_middleware_runs_for_the_admin_exactly_like_djangos():
    factory = RequestFactory()
    ours = middleware.AdminOnlySessionMiddleware(respond)
    django = DjangoSessionMiddleware(respond)
    request_ours, request_django = factory.get("/admin/"), factory.get("/admin/")
    await call(ours, request_ours)
    await call(django, request_django)
    assert type(request_ours.session) is type(request_django.session)


async def test_api_requests_skip_sessions_csrf_and_auth(api):
    response = await api.post("/api/auth/signin", json={"email": "a@b.co", "password": "x"})
    assert response.status_code == 401  # not 403: no CSRF check on the API
    assert "set-cookie" not in response.headers
    assert "cookie" not in response.headers.get("vary", "").lower()


async def test_admin_post_without_csrf_token_is_refused(api):
    response = await api.post("/admin/login/", data={"username": "a@b.co", "password": "x"})
    assert response.status_code == 403


async def test_admin_pages_get_session_and_csrf_cookies(api):
    response = await api.get("/admin/login/")
    assert response.status_code == 200
    assert "csrftoken" in response.headers.get("set-cookie", "")
    assert response.headers["x-frame-options"] == "DENY"


@pytest.mark.parametrize(("djangos", "ours"), list(MIDDLEWARE_STAND_INS.items()))
def test_each_stand_in_subclasses_the_django_middleware_whose_place_it_takes(djangos, ours):
    assert issubclass(import_string(ours), import_string(djangos))


CORS_CASES = [
    ("GET", {}, None),
    ("GET", {}, "Accept-Encoding"),
    ("GET", {"Origin": "http://localhost:3000"}, None),
    ("GET", {"Origin": "http://localhost:3000"}, "Cookie"),
    ("GET", {"Origin": "https://localhost:3000"}, None),
    ("GET", {"Origin": "http://evil.example"}, None),
    ("GET", {"Origin": "null"}, None),
    ("GET", {"Origin": "http://[bad"}, None),
    ("GET", {"Origin": ""}, None),
    ("GET", {"Origin": "https://sub.example.org"}, "Origin"),
    ("OPTIONS", {"Origin": "http://localhost:3000", "Access-Control-Request-Method": "POST"}, None),
    ("OPTIONS", {"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"}, None),
]


CORS_SETTINGS = [
    {"CORS_URLS_REGEX": r"^.*$"},
    {"CORS_URLS_REGEX": r"^/api/.*$"},
    {"CORS_URLS_REGEX": r"^/other/.*$"},
    {"CORS_URLS_REGEX": r"^/other/.*$", "enabled_by_signal": True},
    {"CORS_ALLOW_ALL_ORIGINS": True},
    {"CORS_ALLOW_ALL_ORIGINS": True, "CORS_ALLOW_CREDENTIALS": False},
    {"CORS_ALLOWED_ORIGIN_REGEXES": [r"^https://\w+\.example\.org$"]},
]


@pytest.mark.parametrize(("method", "headers", "vary"), CORS_CASES)
@pytest.mark.parametrize("configured", CORS_SETTINGS)
async def test_cors_answers_exactly_as_django_cors_headers(
    method, headers, vary, configured, settings
):
    configured = dict(configured)

    def enable(sender, request, **kwargs):
        return request.path_info.startswith("/api/")

    if configured.pop("enabled_by_signal", False):
        check_request_enabled.connect(enable)
    for name, value in configured.items():
        setattr(settings, name, value)

    async def respond_with_vary(request):
        response = HttpResponse("ok")
        if vary:
            response.headers["Vary"] = vary
        return response

    factory = RequestFactory()
    ours = middleware.CorsMiddleware(respond_with_vary)
    theirs = DjangoCorsMiddleware(respond_with_vary)
    try:
        ours_response = await call(ours, factory.generic(method, "/api/x", headers=headers))
        their_response = await call(theirs, factory.generic(method, "/api/x", headers=headers))
    finally:
        check_request_enabled.disconnect(enable)  # only this test's receiver
    assert ours_response.status_code == their_response.status_code
    assert dict(ours_response.headers) == dict(their_response.headers)


async def test_cors_reads_allowed_origins_as_they_are_now(settings):
    factory = RequestFactory()
    ours = middleware.CorsMiddleware(respond)
    origin = {"Origin": "https://app.example"}
    before = await call(ours, factory.get("/api/x", headers=origin))
    assert "access-control-allow-origin" not in before.headers
    settings.CORS_ALLOWED_ORIGINS = ["https://app.example"]
    after = await call(ours, factory.get("/api/x", headers=origin))
    assert after.headers["access-control-allow-origin"] == "https://app.example"
