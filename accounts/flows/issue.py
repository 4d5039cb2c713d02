"""Opening a session: the answer every journey that signs someone in gives."""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction

from accounts.client import USER_AGENT_MAX_LENGTH, ClientInfo
from accounts.exceptions import EmailNotVerified
from accounts.flows.new_device import new_device_notice, new_device_seen
from accounts.models import AuthSession, RefreshToken, RefreshTokenChain, User
from accounts.signals import EventType
from accounts.tokens import access_token_encode, refresh_token_new
from toolkit import metrics
from toolkit.tokens import token_digest


@dataclass(frozen=True)
class IssuedSession:
    user: User
    session: AuthSession
    access_token: str
    refresh_token: str
    expires_in: int

    @classmethod
    def with_access_token(
        cls,
        *,
        user: User,
        session: AuthSession,
        chain_id: uuid.UUID,
        refresh_token: str,
        now: datetime,
    ) -> "IssuedSession":
        """The answer for `session`: `refresh_token` (of the chain `chain_id`) and a new access
        token on the same chain."""
        access_token = access_token_encode(
            user_id=user.pk, session_id=session.pk, chain_id=chain_id, now=now
        )
        return cls(
            user=user,
            session=session,
            access_token=access_token,
            refresh_token=refresh_token,
            expires_in=settings.ACCESS_TOKEN_TTL,
        )


def auth_session_issue(*, user: User, client: ClientInfo, now: datetime) -> IssuedSession:
    """Open a session with its first chain, fresh from this sign-in, and the chain's first
    refresh token. Call inside a transaction."""
    expires_at = now + timedelta(seconds=settings.REFRESH_TOKEN_TTL)
    session = AuthSession.objects.create(
        user=user,
        created_at=now,
        last_used_at=now,
        expires_at=expires_at,
        client_ip=client.ip,
        user_agent=client.user_agent[:USER_AGENT_MAX_LENGTH],
    )
    chain = RefreshTokenChain.objects.create(session=session, created_at=now, proved_at=now)
    refresh_token = refresh_token_new()
    RefreshToken.objects.create(
        session=session,
        chain=chain,
        token_hash=token_digest(refresh_token),
        created_at=now,
        expires_at=expires_at,
    )
    # Counted once the session exists for good (a sign-up that loses its race rolls back).
    transaction.on_commit(metrics.SESSIONS_ISSUED.inc)
    return IssuedSession.with_access_token(
        user=user, session=session, chain_id=chain.pk, refresh_token=refresh_token, now=now
    )


def auth_session_issue_with_event(
    *, user: User, client: ClientInfo, now: datetime, method: str
) -> IssuedSession:
    """A signed-in session and its `signin` event, saying how (`method`: password, totp,
    recovery_code, email_code, ...), and the new-device notice when the sign-in is unlike the
    user's recent ones (asked before this session exists). Call inside a transaction."""
    seen = new_device_seen(user=user, client=client, now=now)
    issued = auth_session_issue(user=user, client=client, now=now)
    client.event(
        EventType.SIGNIN, user_id=user.pk, session_id=issued.session.pk, detail={"method": method}
    )
    if seen is not None:
        new_device_notice(
            user=user, client=client, session_id=issued.session.pk, seen=seen, now=now
        )
    return issued


def email_verified_ensure(user: User) -> None:
    """With REQUIRE_VERIFIED_EMAIL, only users who followed a verification link (or reset their
    password by email) get sessions: EmailNotVerified (403) for the others."""
    if settings.REQUIRE_VERIFIED_EMAIL and not user.email_verified:
        raise EmailNotVerified
