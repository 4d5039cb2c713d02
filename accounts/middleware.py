"""The admin login, guarded like the API's sign-in: per client IP and per email (the failure
budgets the API spends), before Django checks (hashes) the password; JSON 429 and 503. The
login's further steps (pages under the login path: a second factor's code) count per client IP
too, in a budget of their own beside the code budgets their view spends."""

from django.conf import settings
from django.http import HttpRequest
from django.http.response import HttpResponseBase

from accounts.exceptions import HasherOverloaded, Throttled, ThrottleStoreUnavailable
from accounts.flows.password import failure_budgets
from accounts.managers import UserManager
from accounts.throttles import client_ip, throttle_check, throttle_hit
from toolkit.http import json_error
from toolkit.middleware import AsyncMiddleware, GetResponse


def refusal(error: Throttled | HasherOverloaded | ThrottleStoreUnavailable) -> HttpResponseBase:
    return json_error(error.status, error.detail, headers={"Retry-After": str(error.retry_after)})


class AdminLoginThrottleMiddleware(AsyncMiddleware):
    def __init__(self, get_response: GetResponse) -> None:
        super().__init__(get_response)
        self.login_path = f"/{settings.ADMIN_URL_PREFIX}login/"

    async def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if request.method == "POST" and request.path_info.startswith(self.login_path):
            ip = client_ip(request)
            try:
                if request.path_info == self.login_path:
                    await self.password_step_guard(request, ip)
                else:
                    await throttle_hit("admin-login-step-ip", ip, settings.RATE_LIMIT_ADMIN_LOGIN)
            except Throttled as throttled:
                return refusal(throttled)
            except ThrottleStoreUnavailable as unavailable:
                return refusal(unavailable)
        return await self.get_response(request)

    async def password_step_guard(self, request: HttpRequest, ip: str | None) -> None:
        await throttle_hit("admin-login-ip", ip, settings.RATE_LIMIT_ADMIN_LOGIN)
        # An email out of budget is refused here, unhashed; concurrent guesses that pass this
        # look are counted atomically by accounts.backends.EmailBackend.
        email = UserManager.normalize_email(str(request.POST.get("username", "")))
        if email:
            for scope, identity, rate in failure_budgets(email, ip):
                await throttle_check(scope, identity, rate)

    def process_exception(
        self, request: HttpRequest, exception: Exception
    ) -> HttpResponseBase | None:
        # The admin login's password check found the hashing pool full, or Redis away.
        if isinstance(exception, HasherOverloaded | ThrottleStoreUnavailable):
            return refusal(exception)
        return None
