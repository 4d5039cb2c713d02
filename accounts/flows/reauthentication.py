"""Re-authentication: a signed-in user proves who they are again (the password, a second
factor's code, or a passkey through accounts.credential_proofs), and the session is fresh again
for REAUTH_MAX_AGE (AuthSession.is_fresh_at)."""

from datetime import datetime
from typing import Any

from asgiref.sync import sync_to_async
from django.db import transaction
from django.utils import timezone

from accounts.client import ClientInfo
from accounts.credential_proofs import PURPOSE_REAUTHENTICATE, credential_verify
from accounts.exceptions import InvalidReauthentication
from accounts.flows.password import password_guess
from accounts.hashing import password_verify, password_verify_dummy
from accounts.models import AuthSession
from accounts.second_factor import second_factor_code_check
from accounts.signals import EventType


async def session_reauthenticate(
    *,
    session: AuthSession,
    password: str | None,
    code: str | None,
    client: ClientInfo,
    credential: dict[str, Any] | None = None,
    challenge_token: str | None = None,
) -> datetime:
    """Check one proof and mark the session re-authenticated; InvalidReauthentication (401)
    for a wrong one. A password spends the sign-in's failure budgets (counted before hashing)
    and a code the second step's (its provider counts them), so this route is no oracle that
    sign-in is not."""
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
        session=session, method=method, client=client, now=timezone.now()
    )


def _session_reauthenticated(
    *, session: AuthSession, method: str, client: ClientInfo, now: datetime
) -> datetime:
    with transaction.atomic():
        AuthSession.objects.filter(pk=session.pk).update(reauthenticated_at=now)
        client.event(
            EventType.REAUTHENTICATED,
            user_id=session.user_id,
            session_id=session.pk,
            detail={"method": method},
        )
    session.reauthenticated_at = now
    return now
