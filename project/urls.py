"""URLs: the admin (its login with a second factor), /metrics for Prometheus, and the one ninja
API at the root (/health, /api/auth, /api/docs)."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from project.api import api
from project.metrics import metrics_view

urlpatterns = [
    path(
        settings.ADMIN_URL_PREFIX.rstrip("/"),
        RedirectView.as_view(url=f"/{settings.ADMIN_URL_PREFIX}", permanent=True),
    ),
    # The admin login with its second factor (mfa.views), in front of the admin's own login:
    # no admin session before the code (or, with ADMIN_REQUIRE_MFA, TOTP's setup) is done.
    path(f"{settings.ADMIN_URL_PREFIX}login/", include("mfa.urls")),
    path(settings.ADMIN_URL_PREFIX, admin.site.urls),
    # Not in the OpenAPI document: an operator's endpoint, not the API's.
    path("metrics", metrics_view),
    path("", api.urls),
]

handler400 = "project.views.bad_request"
handler403 = "project.views.permission_denied"
handler404 = "project.views.page_not_found"
handler500 = "project.views.server_error"
