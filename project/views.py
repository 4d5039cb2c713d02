"""Django's error views (handler400/403/404/500), answering JSON instead of HTML pages."""

from django.http import HttpRequest, HttpResponse

from accounts.exceptions import AccountsError
from toolkit.http import json_error


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    # Most often a Host outside ALLOWED_HOSTS, or a malformed request line Django refused.
    if isinstance(exception, AccountsError):
        return json_error(400, exception.detail)  # e.g. a client address header that is garbage
    return json_error(400, "Bad request: the Host header or the request is not accepted")


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    return json_error(403, "Forbidden")


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    return json_error(404, "Not Found")


def server_error(request: HttpRequest) -> HttpResponse:
    return json_error(500, "Internal server error")
