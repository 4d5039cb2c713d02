"""The accounts routes under /api/auth: thin views over accounts.services."""

import uuid

from django.http import HttpRequest
from django.utils import timezone
from ninja import Router
from ninja.decorators import decorate_view

from accounts import selectors, services
from accounts.auth import BearerAuth
from accounts.devices import device_label
from accounts.exceptions import (
    AccountsError,
    CurrentPasswordIncorrect,
    EmailAlreadyRegistered,
    EmailNotVerified,
    HasherOverloaded,
    InvalidEmailToken,
    SessionNotFound,
    Throttled,
    ThrottleStoreUnavailable,
    Unauthorized,
)
from accounts.models import AuthSession
from accounts.schemas import (
    AuthSessionOut,
    EmailChangeIn,
    EmailTokenIn,
    MessageOut,
    PasswordChangeIn,
    PasswordResetConfirmIn,
    PasswordResetIn,
    RefreshIn,
    RevokedCountOut,
    SessionOut,
    SigninChallengeOut,
    SigninIn,
    SignupIn,
    UserOut,
)
from accounts.second_factor import SecondFactorChallenge
from accounts.throttles import client_ip
from toolkit.http import no_store
from toolkit.openapi import NO_STORE
from toolkit.request_context import request_user_set
from toolkit.schemas import ErrorOut, ValidationErrorOut

# How each domain error reaches the client; project.api installs the handler.
ERROR_STATUS: dict[type[AccountsError], int] = {
    CurrentPasswordIncorrect: 400,
    InvalidEmailToken: 400,
    Unauthorized: 401,
    EmailNotVerified: 403,
    SessionNotFound: 404,
    EmailAlreadyRegistered: 409,
    Throttled: 429,
    HasherOverloaded: 503,
    ThrottleStoreUnavailable: 503,
}

router = Router(tags=["auth"])
bearer = BearerAuth()

# Every route may refuse the request's Host (400) and answer 503 when the database is away.
ANY = {400: ErrorOut, 503: ErrorOut}
WITH_BODY = {**ANY, 413: ErrorOut, 415: ErrorOut, 422: ValidationErrorOut}
THROTTLED = {429: ErrorOut}
UNAUTHORIZED = {401: ErrorOut}
# Sign-in and refresh with REQUIRE_VERIFIED_EMAIL on, for a user who has not verified.
UNVERIFIED = {403: ErrorOut}
# Answers carry tokens or user data: never stored by a cache (RFC 6749 section 5.1).
PRIVATE = {NO_STORE: True}


def client_info(request: HttpRequest) -> services.ClientInfo:
    return services.ClientInfo(
        ip=client_ip(request), user_agent=request.headers.get("User-Agent", "")
    )


def session_out(issued: services.IssuedSession) -> dict[str, object]:
    request_user_set(issued.user.pk)  # for the access log line of this request
    return {
        "user": issued.user,
        "access_token": issued.access_token,
        "refresh_token": issued.refresh_token,
        "token_type": "bearer",
        "expires_in": issued.expires_in,
    }


@router.post(
    "/signup",
    response={201: SessionOut, 409: ErrorOut, **WITH_BODY, **THROTTLED},
    summary="Create an account and sign in",
    openapi_extra=PRIVATE,
)
@decorate_view(no_store)
async def signup(request: HttpRequest, payload: SignupIn) -> tuple[int, dict[str, object]]:
    issued = await services.user_signup(
        email=payload.email, password=payload.password, client=client_info(request)
    )
    return 201, session_out(issued)


def challenge_out(challenge: SecondFactorChallenge) -> dict[str, object]:
    return {
        "mfa_required": True,
        "mfa_token": challenge.token,
        "methods": challenge.methods,
        "expires_in": challenge.expires_in,
    }


@router.post(
    "/signin",
    response={
        200: SessionOut | SigninChallengeOut,
        **UNAUTHORIZED,
        **UNVERIFIED,
        **WITH_BODY,
        **THROTTLED,
    },
    summary="Sign in with email and password",
    description="A session; for a user with a second factor, a challenge to answer at "
    "/api/auth/mfa/verify instead (`mfa_required` is then true).",
    openapi_extra=PRIVATE,
)
@decorate_view(no_store)
async def signin(request: HttpRequest, payload: SigninIn) -> dict[str, object]:
    answer = await services.user_signin(
        email=payload.email, password=payload.password, client=client_info(request)
    )
    if isinstance(answer, SecondFactorChallenge):
        return challenge_out(answer)
    return session_out(answer)


@router.post(
    "/refresh",
    response={200: SessionOut, **UNAUTHORIZED, **UNVERIFIED, **WITH_BODY, **THROTTLED},
    summary="Trade a refresh token for a new session answer (the old token stops working)",
    openapi_extra=PRIVATE,
)
@decorate_view(no_store)
async def refresh(request: HttpRequest, payload: RefreshIn) -> dict[str, object]:
    issued = await services.refresh_token_rotate(
        token=payload.refresh_token, client=client_info(request)
    )
    return session_out(issued)


@router.post(
    "/signout",
    auth=bearer,
    response={200: MessageOut, **UNAUTHORIZED, **ANY},
    summary="Revoke this session's access and refresh tokens",
    openapi_extra=PRIVATE,
)
@decorate_view(no_store)
async def signout(request: HttpRequest) -> dict[str, str]:
    session: AuthSession = request.auth  # type: ignore[attr-defined]
    await services.auth_session_signout(session=session, client=client_info(request))
    return {"message": "Successfully signed out"}


@router.get(
    "/me",
    auth=bearer,
    response={200: UserOut, **UNAUTHORIZED, **ANY},
    summary="The signed-in user",
    openapi_extra=PRIVATE,
)
@decorate_view(no_store)
async def me(request: HttpRequest) -> object:
    session: AuthSession = request.auth  # type: ignore[attr-defined]
    return session.user


@router.post(
    "/password",
    auth=bearer,
    response={200: SessionOut, **UNAUTHORIZED, **WITH_BODY, **THROTTLED},
    summary="Change the password; every session of the user is replaced by a new one",
    openapi_extra=PRIVATE,
)
@decorate_view(no_store)
async def password_change(request: HttpRequest, payload: PasswordChangeIn) -> dict[str, object]:
    session: AuthSession = request.auth  # type: ignore[attr-defined]
    issued = await services.user_password_change(
        session=session,
        current_password=payload.current_password,
        new_password=payload.new_password,
        client=client_info(request),
    )
    return session_out(issued)


@router.get(
    "/sessions",
    auth=bearer,
    response={200: list[AuthSessionOut], **UNAUTHORIZED, **ANY},
    summary="The caller's live sessions, newest first",
    openapi_extra=PRIVATE,
)
@decorate_view(no_store)
async def sessions_list(request: HttpRequest) -> list[dict[str, object]]:
    caller: AuthSession = request.auth  # type: ignore[attr-defined]
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


@router.post(
    "/sessions/revoke-others",
    auth=bearer,
    response={200: RevokedCountOut, **UNAUTHORIZED, **ANY},
    summary="Sign out every other session of the caller",
    openapi_extra=PRIVATE,
)
@decorate_view(no_store)
async def sessions_revoke_others(request: HttpRequest) -> dict[str, int]:
    caller: AuthSession = request.auth  # type: ignore[attr-defined]
    revoked = await services.auth_sessions_revoke_others(caller=caller, client=client_info(request))
    return {"revoked": revoked}


@router.delete(
    "/sessions/{session_id}",
    auth=bearer,
    response={204: None, 404: ErrorOut, **UNAUTHORIZED, **ANY},
    summary="Sign out one of the caller's sessions (404 for any other, as for an unknown one)",
    openapi_extra=PRIVATE,
)
@decorate_view(no_store)
async def session_revoke(request: HttpRequest, session_id: str) -> tuple[int, None]:
    caller: AuthSession = request.auth  # type: ignore[attr-defined]
    try:
        session_uuid = uuid.UUID(session_id)
    except ValueError:
        # Not a session id at all: the same 404 as an unknown one (a converter in the route
        # would answer Django's own 404, without this route's headers).
        raise SessionNotFound from None
    await services.auth_session_revoke_own(
        caller=caller, session_id=session_uuid, client=client_info(request)
    )
    return 204, None


# --- Links sent by email: the frontend's pages post the link's token here --------------------


@router.post(
    "/email/verify",
    response={200: MessageOut, **WITH_BODY},
    summary="Mark the address verified with a verification link's token",
    openapi_extra=PRIVATE,
)
@decorate_view(no_store)
async def email_verify(request: HttpRequest, payload: EmailTokenIn) -> dict[str, str]:
    await services.email_verify(token=payload.token, client=client_info(request))
    return {"message": "Email verified"}


@router.post(
    "/email/verify/resend",
    auth=bearer,
    response={202: MessageOut, **UNAUTHORIZED, **ANY, **THROTTLED},
    summary="Send a new verification link (nothing is sent to a verified address)",
    openapi_extra=PRIVATE,
)
@decorate_view(no_store)
async def email_verify_resend(request: HttpRequest) -> tuple[int, dict[str, str]]:
    session: AuthSession = request.auth  # type: ignore[attr-defined]
    await services.email_verification_resend(user=session.user, client=client_info(request))
    return 202, {"message": "Verification email sent"}


@router.post(
    "/password/reset",
    response={202: MessageOut, **WITH_BODY, **THROTTLED},
    summary="Send a password reset link, if the address is registered (same answer either way)",
    openapi_extra=PRIVATE,
)
@decorate_view(no_store)
async def password_reset(
    request: HttpRequest, payload: PasswordResetIn
) -> tuple[int, dict[str, str]]:
    await services.password_reset_request(email=payload.email, client=client_info(request))
    return 202, {"message": "If the address is registered, a reset link is on its way"}


@router.post(
    "/password/reset/confirm",
    response={200: SessionOut, **WITH_BODY},
    summary="Set a new password with a reset link's token; every other session is revoked",
    openapi_extra=PRIVATE,
)
@decorate_view(no_store)
async def password_reset_confirm(
    request: HttpRequest, payload: PasswordResetConfirmIn
) -> dict[str, object]:
    issued = await services.password_reset_confirm(
        token=payload.token, new_password=payload.new_password, client=client_info(request)
    )
    return session_out(issued)


@router.post(
    "/email/change",
    auth=bearer,
    response={202: MessageOut, 409: ErrorOut, **UNAUTHORIZED, **WITH_BODY, **THROTTLED},
    summary="Send a confirmation link to a new address (and a notice to the current one)",
    openapi_extra=PRIVATE,
)
@decorate_view(no_store)
async def email_change(request: HttpRequest, payload: EmailChangeIn) -> tuple[int, dict[str, str]]:
    session: AuthSession = request.auth  # type: ignore[attr-defined]
    await services.email_change_request(
        session=session,
        new_email=payload.new_email,
        current_password=payload.current_password,
        client=client_info(request),
    )
    return 202, {"message": "Confirmation sent to the new address"}


@router.post(
    "/email/change/confirm",
    response={200: UserOut, 409: ErrorOut, **WITH_BODY},
    summary="Move the account to the new address with a confirmation link's token",
    openapi_extra=PRIVATE,
)
@decorate_view(no_store)
async def email_change_confirm(request: HttpRequest, payload: EmailTokenIn) -> object:
    return await services.email_change_confirm(token=payload.token, client=client_info(request))
