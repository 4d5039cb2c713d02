"""The accounts routes under /api/auth: thin views over accounts.services."""

from django.http import HttpRequest
from ninja import Router
from ninja.decorators import decorate_view

from accounts import services
from accounts.auth import BearerAuth
from accounts.exceptions import (
    AccountsError,
    CurrentPasswordIncorrect,
    EmailAlreadyRegistered,
    HasherOverloaded,
    Throttled,
    Unauthorized,
)
from accounts.models import AuthSession
from accounts.schemas import (
    MessageOut,
    PasswordChangeIn,
    RefreshIn,
    SessionOut,
    SigninIn,
    SignupIn,
    UserOut,
)
from accounts.throttles import client_ip
from toolkit.http import no_store
from toolkit.openapi import NO_STORE
from toolkit.request_context import request_user_set
from toolkit.schemas import ErrorOut, ValidationErrorOut

# How each domain error reaches the client; project.api installs the handler.
ERROR_STATUS: dict[type[AccountsError], int] = {
    CurrentPasswordIncorrect: 400,
    Unauthorized: 401,
    EmailAlreadyRegistered: 409,
    Throttled: 429,
    HasherOverloaded: 503,
}

router = Router(tags=["auth"])
bearer = BearerAuth()

# Every route may refuse the request's Host (400) and answer 503 when the database is away.
ANY = {400: ErrorOut, 503: ErrorOut}
WITH_BODY = {**ANY, 413: ErrorOut, 415: ErrorOut, 422: ValidationErrorOut}
THROTTLED = {429: ErrorOut}
UNAUTHORIZED = {401: ErrorOut}
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


@router.post(
    "/signin",
    response={200: SessionOut, **UNAUTHORIZED, **WITH_BODY, **THROTTLED},
    summary="Sign in with email and password",
    openapi_extra=PRIVATE,
)
@decorate_view(no_store)
async def signin(request: HttpRequest, payload: SigninIn) -> dict[str, object]:
    issued = await services.user_signin(
        email=payload.email, password=payload.password, client=client_info(request)
    )
    return session_out(issued)


@router.post(
    "/refresh",
    response={200: SessionOut, **UNAUTHORIZED, **WITH_BODY, **THROTTLED},
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
    await services.auth_session_revoke(session=session)
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
