"""Sessions: sign-up, sign-in, refresh, sign-out, the signed-in user and their sessions,
password change and re-authentication."""

import uuid

from django.http import HttpRequest
from django.utils import timezone
from ninja import Router
from ninja.errors import ValidationError

from accounts import flows, selectors
from accounts.auth import request_chain_id, request_session, session_auth, signout_auth
from accounts.client import ClientInfo
from accounts.devices import device_label
from accounts.exceptions import InvalidRefreshToken, SessionNotFound
from accounts.responses import session_out, signin_out
from accounts.schemas import (
    AuthSessionOut,
    MessageOut,
    PasswordChangeIn,
    ReauthenticatedOut,
    ReauthenticateIn,
    RefreshIn,
    RevokedCountOut,
    SessionCookieOut,
    SessionOut,
    SigninChallengeOut,
    SigninIn,
    SignupIn,
)
from accounts.transport import (
    REFRESH_COOKIE,
    TransportHeader,
    cookie_mode,
    cookie_of,
    session_transport,
    session_transport_ending,
    transport_openapi,
)
from toolkit.routes import private_route, summary

router = Router(tags=["auth"])
REFRESH_TOKEN_MISSING = {
    "type": "missing",
    "loc": ("body", "payload", "refresh_token"),
    "msg": "Field required",
}


@private_route(
    router.post,
    "/signup",
    {201: SessionOut | SessionCookieOut},
    refusals=(409, 429),
    body=True,
    openapi=transport_openapi(201),
)
@summary("Create an account and sign in")
@session_transport
async def signup(
    request: HttpRequest, payload: SignupIn, transport: TransportHeader = None
) -> tuple[int, dict[str, object]]:
    issued = await flows.signup.user_signup(
        email=payload.email, password=payload.password, client=ClientInfo.from_request(request)
    )
    return 201, session_out(request, issued)


@private_route(
    router.post,
    "/signin",
    {200: SessionOut | SessionCookieOut | SigninChallengeOut},
    refusals=(401, 403, 429),  # 403: REQUIRE_VERIFIED_EMAIL, for a user who has not verified
    body=True,
    openapi=transport_openapi(200),
)
@summary(
    "Sign in with email and password",
    description="A session; for a user with a second factor, a challenge to answer at "
    "/api/auth/mfa/verify instead (`mfa_required` is then true).",
)
@session_transport
async def signin(
    request: HttpRequest, payload: SigninIn, transport: TransportHeader = None
) -> dict[str, object]:
    answer = await flows.signin.user_signin(
        email=payload.email, password=payload.password, client=ClientInfo.from_request(request)
    )
    return signin_out(request, answer)


# 403 as for sign-in: REQUIRE_VERIFIED_EMAIL, for a user who has not verified; 403 also for a
# refresh cookie that fails the CSRF rule (accounts.transport).
@private_route(
    router.post,
    "/refresh",
    {200: SessionOut | SessionCookieOut},
    refusals=(401, 403, 429),
    body=True,
    openapi=transport_openapi(200, refresh_cookie=True),
)
@summary(
    "Trade a refresh token for a new session answer (the old token stops working)",
    description="The token from the body or, when the body has none (or there is no body), "
    "from the `__Host-refresh` cookie. Presented again within REFRESH_REUSE_GRACE seconds of "
    "its first use (two tabs at once), it answers again; later, the session is revoked.",
)
@session_transport_ending
async def refresh(
    request: HttpRequest, payload: RefreshIn | None = None, transport: TransportHeader = None
) -> dict[str, object]:
    # No body at all (as `fetch()` posts in cookie mode): no payload.
    token = (payload and payload.refresh_token) or cookie_of(request, REFRESH_COOKIE)
    if token is None:
        if not cookie_mode(request):
            raise ValidationError([REFRESH_TOKEN_MISSING])  # as before the cookie transport
        raise InvalidRefreshToken
    issued = await flows.sessions.refresh_token_rotate(
        token=token, client=ClientInfo.from_request(request)
    )
    return session_out(request, issued)


@private_route(
    router.post,
    "/signout",
    {200: MessageOut},
    auth=signout_auth,
    openapi=transport_openapi(200, refresh_cookie=True),
)
@summary(
    "Revoke this session's access and refresh tokens",
    description="With the access token (header or cookie), or the `__Host-refresh` cookie "
    "alone; in cookie mode both cookies are cleared.",
)
@session_transport_ending
async def signout(request: HttpRequest) -> dict[str, str]:
    await flows.sessions.auth_session_signout(
        session=request_session(request), client=ClientInfo.from_request(request)
    )
    return {"message": "Successfully signed out"}


@private_route(
    router.post,
    "/password",
    {200: SessionOut | SessionCookieOut},
    refusals=(429,),
    body=True,
    auth=session_auth,
    openapi=transport_openapi(200),
)
@summary("Change the password; every session of the user is replaced by a new one")
@session_transport
async def password_change(
    request: HttpRequest, payload: PasswordChangeIn, transport: TransportHeader = None
) -> dict[str, object]:
    issued = await flows.password.user_password_change(
        session=request_session(request),
        current_password=payload.current_password,
        new_password=payload.new_password,
        client=ClientInfo.from_request(request),
    )
    return session_out(request, issued)


@private_route(router.get, "/sessions", {200: list[AuthSessionOut]}, auth=session_auth)
@summary("The caller's live sessions, newest first")
async def sessions_list(request: HttpRequest) -> list[dict[str, object]]:
    caller = request_session(request)
    sessions = await selectors.auth_sessions_live(user_id=caller.user_id, now=timezone.now())
    return [
        {
            "id": session.pk,
            "created_at": session.created_at,
            "last_used_at": session.last_used_at,
            "ip": session.client_ip,
            "user_agent": session.user_agent,
            "device": device_label(session.user_agent),
            "current": session.pk == caller.pk,
        }
        for session in sessions
    ]


@private_route(router.post, "/sessions/revoke-others", {200: RevokedCountOut}, auth=session_auth)
@summary("Sign out every other session of the caller")
async def sessions_revoke_others(request: HttpRequest) -> dict[str, int]:
    revoked = await flows.sessions.auth_sessions_revoke_others(
        caller=request_session(request), client=ClientInfo.from_request(request)
    )
    return {"revoked": revoked}


@private_route(
    router.delete, "/sessions/{session_id}", {204: None}, refusals=(404,), auth=session_auth
)
@summary("Sign out one of the caller's sessions (404 for any other, as for an unknown one)")
async def session_revoke(request: HttpRequest, session_id: str) -> tuple[int, None]:
    try:
        session_uuid = uuid.UUID(session_id)
    except ValueError:
        # Not a session id at all: the same 404 as an unknown one (a converter in the route
        # would answer Django's own 404, without this route's headers).
        raise SessionNotFound from None
    await flows.sessions.auth_session_revoke_own(
        caller=request_session(request),
        session_id=session_uuid,
        client=ClientInfo.from_request(request),
    )
    return 204, None


# --- Re-authentication: a fresh session for dangerous actions (accounts.auth) -----------------


@private_route(
    router.post,
    "/reauthenticate",
    {200: ReauthenticatedOut},
    refusals=(429,),
    body=True,
    auth=session_auth,
)
@summary(
    "Prove who you are again: the session is fresh for REAUTH_MAX_AGE seconds",
    description="The password, a second-factor code (TOTP or recovery), or a passkey "
    "(`challenge_token` and `credential`, options from /api/auth/reauthenticate/options). A "
    "wrong one is 401; a password or code spends the same failure budgets as a wrong sign-in.",
)
async def reauthenticate(request: HttpRequest, payload: ReauthenticateIn) -> dict[str, object]:
    at = await flows.reauthentication.session_reauthenticate(
        session=request_session(request),
        chain_id=request_chain_id(request),
        password=payload.password,
        code=payload.code,
        credential=payload.credential,
        challenge_token=payload.challenge_token,
        client=ClientInfo.from_request(request),
    )
    return {"reauthenticated_at": at}
