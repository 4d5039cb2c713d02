"""Re-authentication: a signed-in user proves who they are again (the password, a second
factor's code, or a passkey through accounts.credential_proofs), and the refresh-token chain of
the access token they proved it with is fresh again for REAUTH_MAX_AGE
(RefreshTokenChain.is_fresh_at); the session's other chains (another tab's, or a thief's
replay's) are not."""

import uuid
from datetime import datetime
from typing import Any

from asgiref.sync import sync_to_async
from django.db import transaction
from django.utils import timezone

from accounts.client import ClientInfo
from accounts.credential_proofs import PURPOSE_REAUTHENTICATE, credential_verify
from accounts.exceptions import AccessTokenRefused, InvalidReauthentication
from accounts.flows.password import password_guess
from accounts.hashing import password_verify, password_verify_dummy
from accounts.models import AuthSession, RefreshTokenChain
from accounts.second_factor import second_factor_code_check
from accounts.signals import EventType


async def session_reauthenticate(
    *,
    session: AuthSession,
    chain_id: uuid.UUID | None,
    password: str | None,
    code: str | None,
    client: ClientInfo,
    credential: dict[str, Any] | None = None,
    challenge_token: str | None = None,
) -> datetime:
    """Check one proof and mark the session re-authenticated; InvalidReauthentication (401)
    for a wrong one. A password spends the sign-in's failure budgets (counted before hashing)
    and a code the second step's (its provider counts them), so this route is no oracle that
    sign-in is not.

    An access token from before chains existed (`chain_id` None) has no chain to make fresh:
    it is refused as an expired one is (AccessTokenRefused), before any proof is looked at, so
    that the client refreshes and asks again with a token that names its chain."""
    if chain_id is None:
        raise AccessTokenRefused
    user = session.user
    if password is not None:

        async def verify() -> bool:
            if not user.has_usable_password():
                await password_verify_dummy(password)
                return False
            return await password_verify(password, user.password)

        method = (
            "password"
            if await password_guess(email=user.email, ip=client.ip, verify=verify)
            else None
        )
        if method is None:
            await sync_to_async(client.event_alone)(
                EventType.SIGNIN_FAILED, user_id=user.pk, detail={"during": "reauthenticate"}
            )
    elif credential is not None:
        method = await credential_verify(
            user=user,
            purpose=PURPOSE_REAUTHENTICATE,
            credential=credential,
            challenge_token=challenge_token,
            client=client,
        )
    else:
        assert code is not None  # noqa: S101  # ReauthenticateIn asks for one proof
        method = await second_factor_code_check(user=user, code=code, client=client)
    if method is None:
        raise InvalidReauthentication
    return await sync_to_async(_session_reauthenticated)(
        session=session, chain_id=chain_id, method=method, client=client, now=timezone.now()
    )


def _session_reauthenticated(
    *, session: AuthSession, chain_id: uuid.UUID, method: str, client: ClientInfo, now: datetime
) -> datetime:
    with transaction.atomic():
        RefreshTokenChain.objects.filter(pk=chain_id, session_id=session.pk).update(proved_at=now)
        AuthSession.objects.filter(pk=session.pk).update(reauthenticated_at=now)
        client.event(
            EventType.REAUTHENTICATED,
            user_id=session.user_id,
            session_id=session.pk,
            detail={"method": method},
        )
    session.reauthenticated_at = now
    return now
