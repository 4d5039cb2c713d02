"""A session's life after sign-in: refresh-token rotation with theft detection (and the chains
that keep freshness apart, RefreshTokenChain), sign-out, the
user's own sessions (revoke one, revoke the others), the record of use, and the purge of what is
dead."""

import logging
import uuid
from datetime import datetime, timedelta

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.client import ClientInfo
from accounts.exceptions import InvalidRefreshToken, SessionNotFound
from accounts.flows.issue import IssuedSession, email_verified_ensure
from accounts.models import (
    AuthSession,
    EmailToken,
    RefreshToken,
    RefreshTokenChain,
    RevokedReason,
    ThrottleCounter,
)
from accounts.signals import EventType
from accounts.throttles import throttle_hit
from accounts.tokens import refresh_token_new
from toolkit.batches import BATCH_SIZE, batches_delete
from toolkit.tokens import token_digest

logger = logging.getLogger("accounts")


class RefreshReuse(Exception):
    """A rotated refresh token came back: someone holds a copy."""


async def refresh_token_rotate(*, token: str, client: ClientInfo) -> IssuedSession:
    """A new refresh token for a live session's current one, which stops working; the new one
    continues the old one's chain. A token that was rotated already is theft (after
    REFRESH_REUSE_GRACE: within it, two tabs): its session is revoked, and the answer is 401
    either way."""
    await throttle_hit("refresh-ip", client.ip, settings.RATE_LIMIT_REFRESH)
    return await sync_to_async(_refresh_token_rotate)(token=token, client=client)


def _refresh_token_rotate(*, token: str, client: ClientInfo) -> IssuedSession:
    now = timezone.now()
    try:
        with transaction.atomic():
            current = (
                RefreshToken.objects.select_for_update()
                .select_related("session__user")
                .filter(token_hash=token_digest(token))
                .first()
            )
            if current is None:
                raise InvalidRefreshToken
            session = current.session
            if current.used_at is not None and not within_reuse_grace(current.used_at, now):
                raise RefreshReuse(session.pk, session.user_id)
            if (
                current.expires_at <= now
                or not session.is_live_at(now)
                or not session.user.is_active
            ):
                raise InvalidRefreshToken
            email_verified_ensure(session.user)
            chain_id = current.chain_id
            if current.used_at is not None or chain_id is None:
                # Another tab refreshed with the same token a moment ago, or a thief replays
                # a copy: this one gets a token of its own for the same session, and both work
                # (once each), but on a new chain that inherits no freshness (which presenter
                # is the owner, nobody can tell); so does a token from before chains existed.
                chain_id = RefreshTokenChain.objects.create(session=session, created_at=now).pk
            if current.used_at is None:
                current.used_at = now
                current.save(update_fields=["used_at"])
            new_token = refresh_token_new()
            session.last_used_at = now
            session.expires_at = now + timedelta(seconds=settings.REFRESH_TOKEN_TTL)
            if client.ip:
                session.client_ip = client.ip
            session.save(update_fields=["last_used_at", "expires_at", "client_ip"])
            RefreshToken.objects.create(
                session=session,
                chain_id=chain_id,
                token_hash=token_digest(new_token),
                parent=current,
                created_at=now,
                expires_at=session.expires_at,
            )
            return IssuedSession.with_access_token(
                user=session.user,
                session=session,
                chain_id=chain_id,
                refresh_token=new_token,
                now=now,
            )
    except RefreshReuse as reuse:
        session_id, user_id = reuse.args
        _refresh_reuse_revoke(session_id=session_id, user_id=user_id, client=client, now=now)
        raise InvalidRefreshToken from None


def within_reuse_grace(used_at: datetime, now: datetime) -> bool:
    """Whether a refresh token used at `used_at` may answer again at `now`: two tabs of one
    browser that refresh at the same moment send the same token, and the second is no thief."""
    grace = settings.REFRESH_REUSE_GRACE
    return grace > 0 and now - used_at <= timedelta(seconds=grace)


def _refresh_reuse_revoke(
    *, session_id: uuid.UUID, user_id: uuid.UUID, client: ClientInfo, now: datetime
) -> None:
    with transaction.atomic():
        revoked = AuthSession.objects.filter(pk=session_id).revoke(
            reason=RevokedReason.REFRESH_REUSE, now=now
        )
        if revoked:
            client.event(EventType.REFRESH_REUSE, user_id=user_id, session_id=session_id)
    logger.warning(
        "Refresh token reuse: session %s revoked",
        session_id,
        extra={"event": "refresh_token.reused", "session_id": str(session_id)},
    )


async def auth_session_signout(*, session: AuthSession, client: ClientInfo) -> None:
    await sync_to_async(_auth_session_signout)(session=session, client=client)


def _auth_session_signout(*, session: AuthSession, client: ClientInfo) -> None:
    with transaction.atomic():
        revoked = AuthSession.objects.filter(pk=session.pk).revoke(reason=RevokedReason.SIGNOUT)
        if revoked:
            client.event(EventType.SIGNOUT, user_id=session.user_id, session_id=session.pk)


async def auth_session_revoke_own(
    *, caller: AuthSession, session_id: uuid.UUID, client: ClientInfo
) -> None:
    """Revoke one live session of the caller's user; SessionNotFound (404) for any other."""
    await sync_to_async(_auth_session_revoke_own)(
        caller=caller, session_id=session_id, client=client
    )


def _auth_session_revoke_own(
    *, caller: AuthSession, session_id: uuid.UUID, client: ClientInfo
) -> None:
    now = timezone.now()
    with transaction.atomic():
        revoked = (
            AuthSession.objects.live(now)
            .filter(pk=session_id, user_id=caller.user_id)
            .revoke(reason=RevokedReason.SIGNOUT, now=now)
        )
        if not revoked:
            raise SessionNotFound
        client.event(EventType.SESSION_REVOKED, user_id=caller.user_id, session_id=session_id)


async def auth_sessions_revoke_others(*, caller: AuthSession, client: ClientInfo) -> int:
    """Revoke every live session of the caller's user but the calling one; one event."""
    return await sync_to_async(_auth_sessions_revoke_others)(caller=caller, client=client)


def _auth_sessions_revoke_others(*, caller: AuthSession, client: ClientInfo) -> int:
    now = timezone.now()
    with transaction.atomic():
        revoked = (
            AuthSession.objects.live(now)
            .filter(user_id=caller.user_id)
            .exclude(pk=caller.pk)
            .revoke(reason=RevokedReason.SIGNOUT, now=now)
        )
        if revoked:
            client.event(
                EventType.SESSION_REVOKED,
                user_id=caller.user_id,
                session_id=caller.pk,
                detail={"revoked": revoked, "scope": "others"},
            )
        return revoked


async def auth_session_touch(*, session: AuthSession, now: datetime) -> None:
    """Record use at most once a minute: a write per request would cost more than it tells."""
    if now - session.last_used_at > timedelta(minutes=1):
        session.last_used_at = now
        await AuthSession.objects.filter(pk=session.pk).aupdate(last_used_at=now)


def auth_sessions_purge(
    *, now: datetime, revoked_before: datetime, batch_size: int = BATCH_SIZE
) -> tuple[int, int, int]:
    """Delete dead sessions (their refresh tokens cascade), used and expired email tokens, and
    day-old throttle counters, `batch_size` rows per transaction; returns how many of each
    (manage.py purge, through accounts.maintenance). A sign-in's throttle counter is never
    locked for longer than a batch takes."""
    dead = AuthSession.objects.filter(Q(expires_at__lte=now) | Q(revoked_at__lte=revoked_before))
    _, sessions = batches_delete(dead, batch_size=batch_size)
    email_tokens, _ = batches_delete(
        EmailToken.objects.filter(Q(used_at__isnull=False) | Q(expires_at__lte=now)),
        batch_size=batch_size,
    )
    counters, _ = batches_delete(
        ThrottleCounter.objects.filter(window_start__lt=int(now.timestamp()) - 86_400),
        batch_size=batch_size,
    )
    return sessions[AuthSession._meta.label], email_tokens, counters
