"""URLs: the admin, and the one ninja API at the root (/health, /api/auth, /api/docs)."""

from django.conf import settings
from django.contrib import admin
from django.urls import path
from django.views.generic import RedirectView

from project.api import api

urlpatterns = [
    path(
        settings.ADMIN_URL_PREFIX.rstrip("/"),
        RedirectView.as_view(url=f"/{settings.ADMIN_URL_PREFIX}", permanent=True),
    ),
    path(settings.ADMIN_URL_PREFIX, admin.site.urls),
    path("", api.urls),
]

handler400 = "project.views.bad_request"
handler403 = "project.views.permission_denied"
handler404 = "project.views.page_not_found"
handler500 = "project.views.server_error"
