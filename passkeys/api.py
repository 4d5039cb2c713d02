"""The passkey routes under /api/auth: thin views over the journeys in passkeys.flows."""

from django.http import HttpRequest
from ninja import Router

from accounts.auth import (
    fresh_session_auth,
    fresh_verified_session_auth,
    request_session,
    session_auth,
)
from accounts.client import ClientInfo
from accounts.credential_proofs import PURPOSE_REAUTHENTICATE
from accounts.responses import session_out
from accounts.schemas import SessionCookieOut, SessionOut
from accounts.transport import TransportHeader, session_transport, transport_openapi
from passkeys.exceptions import PasskeyNotFound
from passkeys.flows import assertion, registration
from passkeys.models import Passkey
from passkeys.schemas import (
    PasskeyOptionsOut,
    PasskeyOut,
    PasskeyRegisterIn,
    PasskeyRenameIn,
    PasskeySigninIn,
)
from passkeys.selectors import passkeys_list
from toolkit.routes import private_route, summary

router = Router(tags=["auth"])
FRESH = "Needs a fresh session (signed in or re-authenticated within REAUTH_MAX_AGE)."
# Whoever signed up with someone else's address must not put their passkey on the account.
FRESH_VERIFIED = (
    "Needs a fresh session (signed in or re-authenticated within REAUTH_MAX_AGE) and a verified "
    "address (403 `Verify your email address first`)."
)


def passkey_id_of(value: str) -> int:
    """The id in the path; anything else is the same 404 as an unknown passkey (a converter in
    the route would answer Django's own 404, and an int parameter a 422)."""
    if not (value.isascii() and value.isdigit()) or len(value) > 18:  # a bigint, at most
        raise PasskeyNotFound
    return int(value)


def passkey_out(passkey: Passkey) -> dict[str, object]:
    return {
        "id": passkey.pk,
        "name": passkey.name,
        "created_at": passkey.created_at,
        "last_used_at": passkey.last_used_at,
        "backup_eligible": passkey.backup_eligible,
        "backed_up": passkey.backed_up,
    }


@private_route(
    router.post,
    "/passkeys/register/options",
    {200: PasskeyOptionsOut},
    refusals=(403, 409),
    auth=fresh_verified_session_auth,
)
@summary("Options to create a passkey", description=FRESH_VERIFIED)
async def passkey_register_options(request: HttpRequest) -> dict[str, object]:
    made = await registration.passkey_registration_options(user=request_session(request).user)
    return {"challenge_token": made.challenge_token, "options": made.options}


@private_route(
    router.post,
    "/passkeys/register",
    {201: PasskeyOut},
    refusals=(403, 409),
    body=True,
    auth=fresh_verified_session_auth,
)
@summary("Keep the passkey the browser created", description=FRESH_VERIFIED)
async def passkey_register(request: HttpRequest, payload: PasskeyRegisterIn) -> tuple[int, object]:
    passkey = await registration.passkey_register(
        user=request_session(request).user,
        token=payload.challenge_token,
        credential=payload.credential,
        name=payload.name,
        client=ClientInfo.from_request(request),
    )
    return 201, passkey_out(passkey)


@private_route(router.get, "/passkeys", {200: list[PasskeyOut]}, auth=session_auth)
@summary("The caller's passkeys, oldest first")
async def passkeys_of_caller(request: HttpRequest) -> list[dict[str, object]]:
    found = await passkeys_list(user_id=request_session(request).user_id)
    return [passkey_out(passkey) for passkey in found]


# Before /passkeys/{passkey_id}: Django tries the paths in order, and "signin" would match it.
@private_route(router.post, "/passkeys/signin/options", {200: PasskeyOptionsOut}, refusals=(429,))
@summary(
    "Options to sign in with a discoverable passkey",
    description="No allowCredentials: the browser offers the passkeys it holds (conditional UI).",
)
async def passkey_signin_options(request: HttpRequest) -> dict[str, object]:
    made = await assertion.passkey_signin_options(client=ClientInfo.from_request(request))
    return {"challenge_token": made.challenge_token, "options": made.options}


@private_route(
    router.post,
    "/passkeys/signin",
    {200: SessionOut | SessionCookieOut},
    refusals=(401, 403, 429),  # 403: REQUIRE_VERIFIED_EMAIL, for a user who has not verified
    body=True,
    openapi=transport_openapi(200),
)
@summary(
    "Sign in with a passkey",
    description="A passkey with user verification is two factors: a session, never a "
    "second-factor challenge.",
)
@session_transport
async def passkey_signin(
    request: HttpRequest, payload: PasskeySigninIn, transport: TransportHeader = None
) -> dict[str, object]:
    issued = await assertion.passkey_signin(
        token=payload.challenge_token,
        credential=payload.credential,
        client=ClientInfo.from_request(request),
    )
    return session_out(request, issued)


@private_route(
    router.patch,
    "/passkeys/{passkey_id}",
    {200: PasskeyOut},
    refusals=(404,),
    body=True,
    auth=session_auth,
)
@summary("Rename one of the caller's passkeys")
async def passkey_rename(request: HttpRequest, passkey_id: str, payload: PasskeyRenameIn) -> object:
    passkey = await registration.passkey_rename(
        user=request_session(request).user,
        passkey_id=passkey_id_of(passkey_id),
        name=payload.name,
    )
    return passkey_out(passkey)


@private_route(
    router.delete,
    "/passkeys/{passkey_id}",
    {204: None},
    refusals=(404, 409),
    auth=fresh_session_auth,
)
@summary(
    "Remove one of the caller's passkeys",
    description=f"{FRESH} 409 when it is the account's only way to sign in (no usable password, "
    "no other passkey or identity).",
)
async def passkey_remove(request: HttpRequest, passkey_id: str) -> tuple[int, None]:
    await registration.passkey_remove(
        user=request_session(request).user,
        passkey_id=passkey_id_of(passkey_id),
        client=ClientInfo.from_request(request),
    )
    return 204, None


@private_route(
    router.post,
    "/reauthenticate/options",
    {200: PasskeyOptionsOut},
    refusals=(429,),
    auth=session_auth,
)
@summary(
    "Options to re-authenticate with one of the caller's passkeys",
    description="Send the challenge_token and the credential to /api/auth/reauthenticate.",
)
async def passkey_reauthenticate_options(request: HttpRequest) -> dict[str, object]:
    made = await assertion.proof_options(
        request_session(request).user, PURPOSE_REAUTHENTICATE, ClientInfo.from_request(request)
    )
    return {"challenge_token": made.challenge_token, "options": made.options}
