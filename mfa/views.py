"""The admin login with a second factor (HTML pages under ADMIN_URL_PREFIX, in front of the
admin's own login): the password step (Django's admin login form), then a code, or (with
ADMIN_REQUIRE_MFA, for staff without TOTP) setting TOTP up, and only then Django's login().

The half-done login lives in the Django session (server-side; the cookie holds only its key),
under a new session key, bound to the user and their password (a password change ends it),
expiring, and dead after a few wrong codes (the challenge counts them; the setup step, here).
"""

import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from asgiref.sync import async_to_sync
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth import login as auth_login
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.crypto import constant_time_compare
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters

from accounts.client import ClientInfo
from accounts.exceptions import Throttled
from accounts.middleware import refusal
from accounts.models import User
from mfa.exceptions import InvalidChallengeCode, InvalidCode, MfaAlreadyOn
from mfa.flows.admin_login import (
    SETUP_TTL_SECONDS,
    admin_challenge_is_live,
    admin_challenge_start,
    admin_code_verify,
    admin_totp_pending,
)
from mfa.flows.challenge import CHALLENGE_MAX_FAILURES, CHALLENGE_TTL_SECONDS
from mfa.flows.enrolment import totp_confirm, totp_setup
from mfa.forms import CodeForm

PENDING = "mfa.admin_login"  # the session key of the half-done login
CODE_STEP, SETUP_STEP = "code", "setup"
TOO_MANY = "Too many wrong codes, or the time ran out: log in again."


@dataclass(frozen=True)
class PendingLogin:
    user: User
    backend: str
    token: str  # the challenge's (code step)
    next: str
    failures: int  # wrong first codes (setup step)


def pending_login_begin(
    request: HttpRequest, *, user: User, step: str, token: str, next_url: str, ttl: int
) -> HttpResponseRedirect:
    # A new session key: whoever knew the old one (fixation) learns nothing of this login.
    request.session.cycle_key()
    request.session[PENDING] = {
        "step": step,
        "user_id": str(user.pk),
        "backend": user.backend,  # set by authenticate(), for login() at the end
        "auth_hash": user.get_session_auth_hash(),
        "token": token,
        "next": next_url,
        "expires_at": time.time() + ttl,
        "failures": 0,
    }
    return HttpResponseRedirect(reverse(f"mfa_admin_login_{step}"))


def pending_login(request: HttpRequest, step: str) -> PendingLogin | None:
    """This session's half-done login at `step`, if it is live and its user still a staff
    member with the same password."""
    state = request.session.get(PENDING)
    if not isinstance(state, dict) or state.get("step") != step:
        return None
    if state["expires_at"] <= time.time():
        return None
    user = User.objects.filter(pk=state["user_id"], is_active=True, is_staff=True).first()
    if user is None or not constant_time_compare(user.get_session_auth_hash(), state["auth_hash"]):
        return None
    return PendingLogin(
        user=user,
        backend=state["backend"],
        token=state["token"],
        next=state["next"],
        failures=state["failures"],
    )


def safe_next(request: HttpRequest) -> str:
    candidate = request.POST.get(REDIRECT_FIELD_NAME, request.GET.get(REDIRECT_FIELD_NAME))
    if url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return str(candidate)
    return reverse("admin:index")


def login_again(request: HttpRequest, next_url: str, message: str = "") -> HttpResponseRedirect:
    request.session.pop(PENDING, None)
    if message:
        messages.error(request, message)
    return HttpResponseRedirect(
        f"{reverse('admin:login')}?{urlencode({REDIRECT_FIELD_NAME: next_url})}"
    )


def login_complete(request: HttpRequest, pending: PendingLogin) -> None:
    request.session.pop(PENDING, None)
    auth_login(request, pending.user, backend=pending.backend)


def admin_page(request: HttpRequest, template: str, **context: Any) -> TemplateResponse:
    request.current_app = admin.site.name
    return TemplateResponse(
        request,
        template,
        {
            **admin.site.each_context(request),
            "subtitle": None,
            "app_path": request.get_full_path(),
            **context,
        },
    )


class PasswordStepView(LoginView):
    """Django's admin login, except that a right password opens no admin session when a
    second factor has to come first."""

    authentication_form = AdminAuthenticationForm
    template_name = "admin/login.html"

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        user = form.get_user()
        next_url = self.get_success_url()
        token = admin_challenge_start(user=user, client=ClientInfo.from_request(self.request))
        if token is not None:
            return pending_login_begin(
                self.request,
                user=user,
                step=CODE_STEP,
                token=token,
                next_url=next_url,
                ttl=CHALLENGE_TTL_SECONDS,
            )
        if settings.ADMIN_REQUIRE_MFA:
            try:
                async_to_sync(totp_setup)(user=user)  # the secret is shown by the next page
            except MfaAlreadyOn:  # turned on since the look above: log in again, with a code
                return login_again(self.request, next_url)
            return pending_login_begin(
                self.request,
                user=user,
                step=SETUP_STEP,
                token="",
                next_url=next_url,
                ttl=SETUP_TTL_SECONDS,
            )
        return super().form_valid(form)


def admin_login(request: HttpRequest) -> HttpResponseBase:
    """AdminSite.login, with the password step above in place of Django's LoginView."""
    next_url = safe_next(request)
    if request.method == "GET" and admin.site.has_permission(request):
        return HttpResponseRedirect(next_url)
    request.current_app = admin.site.name
    context = {
        **admin.site.each_context(request),
        "title": "Log in",
        "subtitle": None,
        "app_path": request.get_full_path(),
        "username": request.user.get_username(),
        REDIRECT_FIELD_NAME: next_url,
    }
    return PasswordStepView.as_view(extra_context=context, next_page=next_url)(request)


@sensitive_post_parameters("code")
@csrf_protect
@never_cache
def admin_login_code(request: HttpRequest) -> HttpResponseBase:
    """The second step: a TOTP code or a recovery code."""
    pending = pending_login(request, CODE_STEP)
    if pending is None:
        return login_again(request, safe_next(request))
    form = CodeForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        code, client = form.cleaned_data["code"], ClientInfo.from_request(request)
        try:
            user = async_to_sync(admin_code_verify)(token=pending.token, code=code, client=client)
        except Throttled as throttled:
            return refusal(throttled)
        except InvalidChallengeCode:
            if not admin_challenge_is_live(token=pending.token):
                return login_again(request, pending.next, TOO_MANY)
            form.add_error("code", "Invalid code")
        else:
            if user.pk != pending.user.pk:
                return login_again(request, pending.next)
            login_complete(request, pending)
            return HttpResponseRedirect(pending.next)
    return admin_page(
        request,
        "mfa/admin_login_code.html",
        title="Two-factor authentication",
        form=form,
    )


@sensitive_post_parameters("code")
@csrf_protect
@never_cache
def admin_login_setup(request: HttpRequest) -> HttpResponseBase:
    """ADMIN_REQUIRE_MFA, for a staff member without TOTP: the secret (QR code and text) and
    its first code, which turns TOTP on; then the recovery codes, shown this once."""
    pending = pending_login(request, SETUP_STEP)
    if pending is None:
        return login_again(request, safe_next(request))
    enrolment = admin_totp_pending(user=pending.user)
    if enrolment is None:  # reset, or turned on meanwhile: start over
        return login_again(request, pending.next)
    form = CodeForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        code, client = form.cleaned_data["code"], ClientInfo.from_request(request)
        try:
            codes = async_to_sync(totp_confirm)(user=pending.user, code=code, client=client)
        except Throttled as throttled:
            return refusal(throttled)
        except MfaAlreadyOn:
            return login_again(request, pending.next)
        except InvalidCode:
            if pending.failures + 1 >= CHALLENGE_MAX_FAILURES:
                return login_again(request, pending.next, TOO_MANY)
            request.session[PENDING] = {
                **request.session[PENDING],
                "failures": pending.failures + 1,
            }
            form.add_error("code", "Invalid code")
        else:
            login_complete(request, pending)
            return admin_page(
                request,
                "mfa/admin_login_recovery_codes.html",
                title="Two-factor authentication is on",
                recovery_codes=codes,
                next=pending.next,
            )
    return admin_page(
        request,
        "mfa/admin_login_setup.html",
        title="Set up two-factor authentication",
        form=form,
        enrolment=enrolment,
    )
