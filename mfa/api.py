"""The second-factor routes under /api/auth/mfa: thin views over the journeys in mfa.flows."""

from django.http import HttpRequest
from ninja import Router

from accounts.auth import (
    fresh_verified_session_auth,
    request_session,
    session_auth,
    verified_session_auth,
)
from accounts.client import ClientInfo
from accounts.responses import session_out
from accounts.schemas import MessageOut, SessionCookieOut, SessionOut
from accounts.transport import TransportHeader, session_transport, transport_openapi
from mfa import flows
from mfa.schemas import (
    CodeIn,
    MfaTokenIn,
    MfaVerifyIn,
    RecoveryCodesOut,
    TotpDisableIn,
    TotpSetupOut,
    WebAuthnOptionsOut,
)
from toolkit.routes import private_route, summary

router = Router(tags=["auth"])


# Fresh: a stolen access token must not be enough to put the thief's authenticator on the account.
# Verified: nor may whoever signed up with someone else's address put theirs on it (403).
@private_route(
    router.post,
    "/totp/setup",
    {200: TotpSetupOut},
    refusals=(403, 409),
    auth=fresh_verified_session_auth,
)
@summary(
    "Start TOTP: a new secret, pending until confirmed",
    description="Needs a fresh session (signed in or re-authenticated within REAUTH_MAX_AGE) "
    "and a verified address (403 `Verify your email address first`).",
)
async def totp_setup(request: HttpRequest) -> dict[str, str]:
    enrolment = await flows.enrolment.totp_setup(user=request_session(request).user)
    return {
        "secret": enrolment.secret,
        "otpauth_uri": enrolment.otpauth_uri,
        "qr_svg": enrolment.qr_svg,
    }


@private_route(
    router.post,
    "/totp/confirm",
    {200: RecoveryCodesOut},
    refusals=(403, 409, 429),
    body=True,
    auth=verified_session_auth,
)
@summary(
    "Turn TOTP on with a first code; answers the recovery codes, once",
    description="Needs a verified address (403 `Verify your email address first`).",
)
async def totp_confirm(request: HttpRequest, payload: CodeIn) -> dict[str, list[str]]:
    user, client = request_session(request).user, ClientInfo.from_request(request)
    codes = await flows.enrolment.totp_confirm(user=user, code=payload.code, client=client)
    return {"recovery_codes": codes}


@private_route(
    router.post, "/totp/disable", {200: MessageOut}, refusals=(429,), body=True, auth=session_auth
)
@summary("Turn TOTP off with the current password and a code")
async def totp_disable(request: HttpRequest, payload: TotpDisableIn) -> dict[str, str]:
    await flows.enrolment.totp_disable(
        user=request_session(request).user,
        current_password=payload.current_password,
        code=payload.code,
        client=ClientInfo.from_request(request),
    )
    return {"message": "Two-factor authentication is off"}


@private_route(
    router.post,
    "/recovery-codes",
    {200: RecoveryCodesOut},
    refusals=(429,),
    body=True,
    auth=session_auth,
)
@summary("New recovery codes (the old ones die), with a code")
async def recovery_codes_regenerate(request: HttpRequest, payload: CodeIn) -> dict[str, list[str]]:
    user, client = request_session(request).user, ClientInfo.from_request(request)
    codes = await flows.enrolment.recovery_codes_regenerate(
        user=user, code=payload.code, client=client
    )
    return {"recovery_codes": codes}


@private_route(
    router.post,
    "/verify",
    {200: SessionOut | SessionCookieOut},
    refusals=(401, 429),
    body=True,
    openapi=transport_openapi(200),
)
@summary(
    "The sign-in's second step: the mfa_token and a TOTP or recovery code, or a passkey",
    description="`credential`: the browser's answer to the options of "
    "/api/auth/mfa/webauthn/options (when `methods` included `webauthn`).",
)
@session_transport
async def mfa_verify(
    request: HttpRequest, payload: MfaVerifyIn, transport: TransportHeader = None
) -> dict[str, object]:
    client = ClientInfo.from_request(request)
    if payload.credential is not None:
        issued = await flows.challenge.mfa_passkey_verify(
            token=payload.mfa_token, credential=payload.credential, client=client
        )
    else:
        assert payload.code is not None  # noqa: S101  # MfaVerifyIn asks for one answer
        issued = await flows.challenge.mfa_verify(
            token=payload.mfa_token, code=payload.code, client=client
        )
    return session_out(request, issued)


@private_route(
    router.post,
    "/webauthn/options",
    {200: WebAuthnOptionsOut},
    refusals=(401, 429),
    body=True,
)
@summary(
    "Passkey options for the sign-in's second step",
    description="For a user whose challenge `methods` included `webauthn`; send the browser's "
    "credential to /api/auth/mfa/verify with the mfa_token.",
)
async def webauthn_options(request: HttpRequest, payload: MfaTokenIn) -> dict[str, object]:
    options = await flows.challenge.mfa_webauthn_options(
        token=payload.mfa_token, client=ClientInfo.from_request(request)
    )
    return {"options": options}
