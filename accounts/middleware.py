"""Throttle the admin login form per client IP, before Django checks (hashes) the password."""

from django.conf import settings
from django.http import HttpRequest
from django.http.response import HttpResponseBase

from accounts.exceptions import Throttled
from accounts.throttles import client_ip, throttle_hit
from project.http import json_error
from project.middleware import AsyncMiddleware

ADMIN_LOGIN_PATH = "/admin/login/"


class AdminLoginThrottleMiddleware(AsyncMiddleware):
    async def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if request.method == "POST" and request.path == ADMIN_LOGIN_PATH:
            try:
                await throttle_hit(
                    "admin-login-ip", client_ip(request), settings.RATE_LIMIT_ADMIN_LOGIN
                )
            except Throttled as throttled:
                return json_error(
                    429, throttled.detail, headers={"Retry-After": str(throttled.retry_after)}
                )
        return await self.get_response(request)
