"""The second-factor routes under /api/auth/mfa: thin views over mfa.services."""

from django.http import HttpRequest
from ninja import Router
from ninja.decorators import decorate_view

from accounts.api import (
    ANY,
    PRIVATE,
    THROTTLED,
    UNAUTHORIZED,
    WITH_BODY,
    bearer,
    session_out,
)
from accounts.client import ClientInfo
from accounts.exceptions import AccountsError
from accounts.models import AuthSession
from accounts.schemas import MessageOut, SessionOut
from mfa import services
from mfa.exceptions import MfaAlreadyOn
from mfa.schemas import CodeIn, MfaVerifyIn, RecoveryCodesOut, TotpDisableIn, TotpSetupOut
from toolkit.http import no_store
from toolkit.schemas import ErrorOut

# Registered beside accounts' mapping in project.api (the rest are 400, or 401 as Unauthorized).
ERROR_STATUS: dict[type[AccountsError], int] = {MfaAlreadyOn: 409}

router = Router(tags=["auth"])
CONFLICT = {409: ErrorOut}


@router.post(
    "/totp/setup",
    auth=bearer,
    response={200: TotpSetupOut, **CONFLICT, **UNAUTHORIZED, **ANY},
    summary="Start TOTP: a new secret, pending until confirmed",
    openapi_extra=PRIVATE,
)
@decorate_view(no_store)
async def totp_setup(request: HttpRequest) -> dict[str, str]:
    session: AuthSession = request.auth  # type: ignore[attr-defined]
    enrolment = await services.totp_setup(user=session.user)
    return {
        "secret": enrolment.secret,
        "otpauth_uri": enrolment.otpauth_uri,
        "qr_svg": enrolment.qr_svg,
    }


@router.post(
    "/totp/confirm",
    auth=bearer,
    response={200: RecoveryCodesOut, **CONFLICT, **UNAUTHORIZED, **WITH_BODY, **THROTTLED},
    summary="Turn TOTP on with a first code; answers the recovery codes, once",
    openapi_extra=PRIVATE,
)
@decorate_view(no_store)
async def totp_confirm(request: HttpRequest, payload: CodeIn) -> dict[str, list[str]]:
    session: AuthSession = request.auth  # type: ignore[attr-defined]
    codes = await services.totp_confirm(
        user=session.user, code=payload.code, client=ClientInfo.from_request(request)
    )
    return {"recovery_codes": codes}


@router.post(
    "/totp/disable",
    auth=bearer,
    response={200: MessageOut, **UNAUTHORIZED, **WITH_BODY, **THROTTLED},
    summary="Turn TOTP off with the current password and a code",
    openapi_extra=PRIVATE,
)
@decorate_view(no_store)
async def totp_disable(request: HttpRequest, payload: TotpDisableIn) -> dict[str, str]:
    session: AuthSession = request.auth  # type: ignore[attr-defined]
    await services.totp_disable(
        user=session.user,
        current_password=payload.current_password,
        code=payload.code,
        client=ClientInfo.from_request(request),
    )
    return {"message": "Two-factor authentication is off"}


@router.post(
    "/recovery-codes",
    auth=bearer,
    response={200: RecoveryCodesOut, **UNAUTHORIZED, **WITH_BODY, **THROTTLED},
    summary="New recovery codes (the old ones die), with a code",
    openapi_extra=PRIVATE,
)
@decorate_view(no_store)
async def recovery_codes_regenerate(request: HttpRequest, payload: CodeIn) -> dict[str, list[str]]:
    session: AuthSession = request.auth  # type: ignore[attr-defined]
    codes = await services.recovery_codes_regenerate(
        user=session.user, code=payload.code, client=ClientInfo.from_request(request)
    )
    return {"recovery_codes": codes}


@router.post(
    "/verify",
    response={200: SessionOut, **UNAUTHORIZED, **WITH_BODY, **THROTTLED},
    summary="The sign-in's second step: the mfa_token and a TOTP or recovery code",
    openapi_extra=PRIVATE,
)
@decorate_view(no_store)
async def mfa_verify(request: HttpRequest, payload: MfaVerifyIn) -> dict[str, object]:
    issued = await services.mfa_verify(
        token=payload.mfa_token, code=payload.code, client=ClientInfo.from_request(request)
    )
    return session_out(issued)
