"""What arrives by email: verification and address-change links, password reset, sign-in codes
(the frontend's pages post the link's token or the code here)."""

from django.http import HttpRequest
from ninja import Router

from accounts import flows
from accounts.auth import request_session, session_auth
from accounts.client import ClientInfo
from accounts.responses import signin_out
from accounts.schemas import (
    EmailChangeIn,
    EmailCodeConfirmIn,
    EmailCodeIn,
    EmailTokenIn,
    MessageOut,
    PasswordResetConfirmIn,
    PasswordResetIn,
    SessionCookieOut,
    SessionOut,
    SigninChallengeOut,
    UserOut,
)
from accounts.transport import (
    TransportHeader,
    session_transport,
    transport_openapi,
)
from toolkit.routes import private_route, summary

router = Router(tags=["auth"])

# --- Links sent by email: the frontend's pages post the link's token here --------------------


@private_route(router.post, "/email/verify", {200: MessageOut}, body=True)
@summary("Mark the address verified with a verification link's token")
async def email_verify(request: HttpRequest, payload: EmailTokenIn) -> dict[str, str]:
    await flows.email_links.email_verify(
        token=payload.token, client=ClientInfo.from_request(request)
    )
    return {"message": "Email verified"}


@private_route(
    router.post, "/email/verify/resend", {202: MessageOut}, refusals=(429,), auth=session_auth
)
@summary("Send a new verification link (nothing is sent to a verified address)")
async def email_verify_resend(request: HttpRequest) -> tuple[int, dict[str, str]]:
    await flows.email_links.email_verification_resend(
        user=request_session(request).user, client=ClientInfo.from_request(request)
    )
    return 202, {"message": "Verification email sent"}


@private_route(router.post, "/password/reset", {202: MessageOut}, refusals=(429,), body=True)
@summary("Send a password reset link, if the address is registered (same answer either way)")
async def password_reset(
    request: HttpRequest, payload: PasswordResetIn
) -> tuple[int, dict[str, str]]:
    await flows.password.password_reset_request(
        email=payload.email, client=ClientInfo.from_request(request)
    )
    return 202, {"message": "If the address is registered, a reset link is on its way"}


@private_route(
    router.post,
    "/password/reset/confirm",
    {200: SessionOut | SessionCookieOut | SigninChallengeOut},
    body=True,
    openapi=transport_openapi(200),
)
@summary(
    "Set a new password with a reset link's token; every other session is revoked",
    description="A session; for a user with a second factor, the sign-in's challenge to answer "
    "at /api/auth/mfa/verify instead (`mfa_required` is then true), never a session.",
)
@session_transport
async def password_reset_confirm(
    request: HttpRequest, payload: PasswordResetConfirmIn, transport: TransportHeader = None
) -> dict[str, object]:
    answer = await flows.password.password_reset_confirm(
        token=payload.token,
        new_password=payload.new_password,
        client=ClientInfo.from_request(request),
    )
    return signin_out(request, answer)


@private_route(
    router.post,
    "/email/change",
    {202: MessageOut},
    refusals=(409, 429),
    body=True,
    auth=session_auth,
)
@summary("Send a confirmation link to a new address (and a notice to the current one)")
async def email_change(request: HttpRequest, payload: EmailChangeIn) -> tuple[int, dict[str, str]]:
    await flows.email_links.email_change_request(
        session=request_session(request),
        new_email=payload.new_email,
        current_password=payload.current_password,
        client=ClientInfo.from_request(request),
    )
    return 202, {"message": "Confirmation sent to the new address"}


@private_route(router.post, "/email/change/confirm", {200: UserOut}, refusals=(409,), body=True)
@summary("Move the account to the new address with a confirmation link's token")
async def email_change_confirm(request: HttpRequest, payload: EmailTokenIn) -> object:
    return await flows.email_links.email_change_confirm(
        token=payload.token, client=ClientInfo.from_request(request)
    )


# --- Sign-in by a code sent by email ---------------------------------------------------------


@private_route(router.post, "/email/code", {202: MessageOut}, refusals=(429,), body=True)
@summary("Send a sign-in code, if the address is registered (same answer either way)")
async def email_code(request: HttpRequest, payload: EmailCodeIn) -> tuple[int, dict[str, str]]:
    await flows.email_code.email_code_request(
        email=payload.email, client=ClientInfo.from_request(request)
    )
    return 202, {"message": "If the address is registered, a code is on its way"}


@private_route(
    router.post,
    "/email/code/confirm",
    {200: SessionOut | SessionCookieOut | SigninChallengeOut},
    refusals=(429,),
    body=True,
    openapi=transport_openapi(200),
)
@summary(
    "Sign in with a code sent by email",
    description="A session; for a user with a second factor, a challenge to answer at "
    "/api/auth/mfa/verify instead (`mfa_required` is then true). 400 for a wrong, expired or "
    "used code; a code is dead after 5 wrong tries.",
)
@session_transport
async def email_code_confirm(
    request: HttpRequest, payload: EmailCodeConfirmIn, transport: TransportHeader = None
) -> dict[str, object]:
    answer = await flows.email_code.email_code_signin(
        email=payload.email, code=payload.code, client=ClientInfo.from_request(request)
    )
    return signin_out(request, answer)
