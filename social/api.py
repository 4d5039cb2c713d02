"""The routes of sign-in with another provider under /api/auth: thin views over social.flows."""

import functools
from collections.abc import Awaitable
from typing import Any, cast

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from ninja import Router
from ninja.decorators import decorate_view

from accounts.auth import (
    fresh_session_auth,
    fresh_verified_session_auth,
    request_session,
    session_auth,
)
from accounts.client import ClientInfo
from accounts.exceptions import NotAuthenticated
from accounts.models import AuthSession
from accounts.responses import signin_out
from accounts.schemas import SessionCookieOut, SessionOut, SigninChallengeOut
from accounts.transport import (
    SET_COOKIE_HEADER,
    TransportHeader,
    View,
    session_transport,
    transport_openapi,
)
from social import flows, selectors
from social.providers import providers_all
from social.schemas import (
    AuthorizeIn,
    AuthorizeOut,
    ExchangeIn,
    IdentityOut,
    IdTokenIn,
    ProviderOut,
)
from toolkit.routes import private_route, summary

router = Router(tags=["auth"])
# Binds a flow to the browser that started it, from the authorize answer to the exchange;
# SameSite=Lax, so the provider's redirect (a top-level GET) brings it back.
BINDING_COOKIE = "__Host-provider-flow"
BINDING_COOKIE_PARAMETER = {
    "in": "cookie",
    "name": BINDING_COOKIE,
    "required": False,  # the browser sends it (HttpOnly): no script could give its value
    "description": "Set by the authorize answer; the browser that started the flow sends it. "
    "Without it, or with another flow's, the code is refused (400). Every answer clears it.",
    "schema": {"type": "string"},
}
SIGNIN_ANSWERS = {200: SessionOut | SessionCookieOut | SigninChallengeOut}


@private_route(router.get, "/providers", {200: list[ProviderOut]})
@summary("The providers one may sign in with")
async def providers_list(request: HttpRequest) -> list[dict[str, str]]:
    return [{"id": provider.id, "name": provider.name} for provider in providers_all()]


async def link_session(request: HttpRequest) -> AuthSession:
    """The fresh session of a verified user linking needs (accounts.auth.
    fresh_verified_session_auth, header or cookie): whoever signed up with someone else's
    address must not link their identity to the account."""
    for authenticate in fresh_verified_session_auth:
        # Each is async here (accounts.auth), whatever ninja's base classes say.
        session = await cast("Awaitable[AuthSession | None]", authenticate(request))
        if session is not None:
            return session
    raise NotAuthenticated


@private_route(
    router.post,
    "/providers/{provider_id}/authorize",
    {200: AuthorizeOut},
    refusals=(401, 403, 404),
    body=True,
    openapi={
        "responses": {
            "200": {"headers": {"Set-Cookie": {"$ref": "#/components/headers/Set-Cookie"}}}
        }
    },
)
@summary(
    "Start sign-in (or linking) with a provider: where to send the browser",
    description="Sets an HttpOnly cookie binding the flow to this browser. `process: link` "
    "needs a fresh session (Bearer or the access cookie) of a user whose address is verified "
    "(403 `Verify your email address first`) and adds the provider to its user.",
)
async def provider_authorize(
    request: HttpRequest, provider_id: str, payload: AuthorizeIn, response: HttpResponse
) -> dict[str, str]:
    user = (await link_session(request)).user if payload.process == "link" else None
    public = settings.API_PUBLIC_URL or f"{request.scheme}://{request.get_host()}"
    start = await flows.authorization.authorization_start(
        provider_id=provider_id,
        process=payload.process,
        user=user,
        redirect_uri=f"{public}/api/auth/providers/{provider_id}/callback",
    )
    response.set_cookie(
        BINDING_COOKIE,
        start.binding,
        max_age=flows.authorization.FLOW_TTL_SECONDS,
        path="/",
        secure=True,
        httponly=True,
        samesite="Lax",
    )
    return {"authorization_url": start.authorization_url}


@private_route(router.get, "/providers/{provider_id}/callback", {302: None})
@summary(
    "Where the provider sends the browser back: on to the frontend",
    description="Always a redirect to FRONTEND_SOCIAL_CALLBACK_URL, with `?code=` (single use, "
    "60 s: trade it at /api/auth/providers/exchange), `?linked=<provider>` after linking, or "
    "`?error=<reason>` (`access_denied`, `invalid_state`, `account_exists`, ...).",
)
async def provider_callback(
    request: HttpRequest,
    provider_id: str,
    code: str | None = None,
    state: str | None = None,
    iss: str | None = None,
    error: str | None = None,
) -> HttpResponse:
    answer = await flows.authorization.provider_callback(
        provider_id=provider_id,
        state=state,
        code=code,
        iss=iss,
        error=error,
        binding=request.COOKIES.get(BINDING_COOKIE),
        client=ClientInfo.from_request(request),
    )
    redirect = HttpResponseRedirect(answer.location())
    if answer.code is None:
        # Nothing left to trade: the flow is over. A code keeps the cookie for the exchange.
        binding_cookie_clear(redirect)
    return redirect


def binding_cookie_clear(response: HttpResponse) -> None:
    response.set_cookie(
        BINDING_COOKIE, "", max_age=0, path="/", secure=True, httponly=True, samesite="Lax"
    )


def binding_cookie_clearing(run: View) -> View:
    """The exchange clears the binding cookie whatever it answers: its code is spent either way."""

    @functools.wraps(run)
    async def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = await run(request, *args, **kwargs)
        if BINDING_COOKIE in request.COOKIES:
            binding_cookie_clear(response)
        return response

    return wrapper


def exchange_openapi() -> dict[str, Any]:
    """The session cookies (transport_openapi), and the binding cookie: sent, and cleared by
    any answer of the view (413 comes before it)."""
    document = transport_openapi(200)
    document["parameters"].append(BINDING_COOKIE_PARAMETER)
    for status in ("400", "403", "415", "422", "503"):
        document["responses"][status] = {"headers": {"Set-Cookie": SET_COOKIE_HEADER}}
    return document


@private_route(
    router.post,
    "/providers/exchange",
    SIGNIN_ANSWERS,
    refusals=(403,),  # 403: REQUIRE_VERIFIED_EMAIL, for a user who has not verified
    body=True,
    openapi=exchange_openapi(),
)
@summary(
    "Trade the callback's code for a session",
    description="In the browser that started the flow: the code counts only with the flow's "
    "binding cookie (`__Host-provider-flow`), which the answer clears. A session; for a user "
    "with a second factor, a challenge to answer at /api/auth/mfa/verify instead "
    "(`mfa_required` is then true). 400 for a wrong, used or expired code, or one without its "
    "flow's binding cookie.",
)
@session_transport
@decorate_view(binding_cookie_clearing)
async def provider_exchange(
    request: HttpRequest, payload: ExchangeIn, transport: TransportHeader = None
) -> dict[str, object]:
    answer = await flows.signin.exchange_code_signin(
        code=payload.code,
        binding=request.COOKIES.get(BINDING_COOKIE),
        client=ClientInfo.from_request(request),
    )
    return signin_out(request, answer)


@private_route(
    router.post,
    "/providers/{provider_id}/token",
    SIGNIN_ANSWERS,
    refusals=(401, 403, 404, 409),
    body=True,
    openapi=transport_openapi(200),
)
@summary(
    "Sign in with the provider's ID token (native apps)",
    description="The token's audience must be one of the provider's client ids; each token "
    "and nonce signs in once. A session, or the second-factor challenge; 409 when an account "
    "has the address and cannot be linked to it (sign in, then link).",
)
@session_transport
async def provider_token(
    request: HttpRequest, provider_id: str, payload: IdTokenIn, transport: TransportHeader = None
) -> dict[str, object]:
    answer = await flows.signin.id_token_signin(
        provider_id=provider_id,
        id_token=payload.id_token,
        nonce=payload.nonce,
        client=ClientInfo.from_request(request),
    )
    return signin_out(request, answer)


@private_route(router.get, "/identities", {200: list[IdentityOut]}, auth=session_auth)
@summary("The caller's linked provider identities")
async def identities_list(request: HttpRequest) -> list[object]:
    return list(await selectors.identities_of(user_id=request_session(request).user_id))


@private_route(
    router.delete,
    "/identities/{identity_id}",
    {204: None},
    refusals=(404, 409),
    auth=fresh_session_auth,
)
@summary(
    "Remove a linked identity (a fresh session)",
    description="409 when it is the account's only way to sign in (no usable password, no "
    "other identity or passkey).",
)
async def identity_unlink(request: HttpRequest, identity_id: int) -> tuple[int, None]:
    await flows.identities.identity_unlink(
        user_id=request_session(request).user_id,
        identity_id=identity_id,
        client=ClientInfo.from_request(request),
    )
    return 204, None
