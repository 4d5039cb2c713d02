"""The admin login's pages (mfa.views), mounted by project.urls at ADMIN_URL_PREFIX + "login/",
in front of the admin's own login."""

from django.urls import path

from mfa import views

urlpatterns = [
    path("", views.admin_login),
    path("code/", views.admin_login_code, name="mfa_admin_login_code"),
    path("setup/", views.admin_login_setup, name="mfa_admin_login_setup"),
]
