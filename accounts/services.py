"""Writes: sign-up, sign-in, token refresh with rotation, sign-out, the user's own sessions,
password change. Each security-relevant change sends `auth_event` inside its transaction."""

import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts import selectors
from accounts.exceptions import (
    AccessTokenRefused,
    CurrentPasswordIncorrect,
    EmailAlreadyRegistered,
    HasherOverloaded,
    InvalidCredentials,
    InvalidRefreshToken,
    SessionNotFound,
    Throttled,
    WeakPassword,
)
from accounts.hashing import (
    hasher_capacity_ensure,
    password_hash,
    password_verify,
    password_verify_dummy,
)
from accounts.managers import UserManager
from accounts.models import AuthSession, AuthSessionQuerySet, RefreshToken, RevokedReason, User
from accounts.second_factor import ChallengeRequest, SecondFactorChallenge, second_factor_challenge
from accounts.signals import EventType, auth_event_send
from accounts.throttles import Attempt, throttle_count, throttle_forgive, throttle_hit
from accounts.tokens import access_token_encode, refresh_token_hash, refresh_token_new
from accounts.validators import password_problems
from toolkit import metrics
from toolkit.rates import Rate

logger = logging.getLogger("accounts")
USER_AGENT_MAX_LENGTH = 512


@dataclass(frozen=True)
class ClientInfo:
    """Who is calling, recorded on the sessions they open."""

    ip: str | None
    user_agent: str

    def event(
        self,
        type: EventType,
        *,
        user_id: uuid.UUID,
        session_id: uuid.UUID | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        """Send `auth_event` for this caller; inside the change's transaction."""
        auth_event_send(
            type,
            user_id=user_id,
            ip=self.ip,
            user_agent=self.user_agent[:USER_AGENT_MAX_LENGTH],
            session_id=session_id,
            detail=detail,
        )


def auth_event_record(
    type: EventType,
    *,
    user_id: uuid.UUID,
    client: ClientInfo,
    session_id: uuid.UUID | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """An event that records no change of its own (a failed sign-in): its own transaction."""
    with transaction.atomic():
        client.event(type, user_id=user_id, session_id=session_id, detail=detail)


@dataclass(frozen=True)
class IssuedSession:
    user: User
    session: AuthSession
    access_token: str
    refresh_token: str
    expires_in: int


def password_validate(password: str, *, email: str, field: str = "password") -> None:
    """Django's AUTH_PASSWORD_VALIDATORS; WeakPassword (422) listing every problem."""
    errors = password_problems(password, email=email)
    if errors:
        raise WeakPassword(errors, field=field)


def auth_session_issue(*, user: User, client: ClientInfo, now: datetime) -> IssuedSession:
    """Open a session with its first refresh token. Call inside a transaction."""
    expires_at = now + timedelta(seconds=settings.REFRESH_TOKEN_TTL)
    session = AuthSession.objects.create(
        user=user,
        created_at=now,
        last_used_at=now,
        expires_at=expires_at,
        client_ip=client.ip,
        user_agent=client.user_agent[:USER_AGENT_MAX_LENGTH],
    )
    refresh_token = refresh_token_new()
    RefreshToken.objects.create(
        session=session,
        token_hash=refresh_token_hash(refresh_token),
        created_at=now,
        expires_at=expires_at,
    )
    # Counted once the session exists for good (a sign-up that loses its race rolls back).
    transaction.on_commit(metrics.SESSIONS_ISSUED.inc)
    return issued(user=user, session=session, refresh_token=refresh_token, now=now)


def issued(*, user: User, session: AuthSession, refresh_token: str, now: datetime) -> IssuedSession:
    return IssuedSession(
        user=user,
        session=session,
        access_token=access_token_encode(user_id=user.pk, session_id=session.pk, now=now),
        refresh_token=refresh_token,
        expires_in=settings.ACCESS_TOKEN_TTL,
    )


def user_create_with_session(
    *, email: str, encoded_password: str, client: ClientInfo
) -> IssuedSession:
    now = timezone.now()
    try:
        with transaction.atomic():
            user = User.objects.create(email=email, password=encoded_password, created_at=now)
            issued_session = auth_session_issue(user=user, client=client, now=now)
            client.event("signup", user_id=user.pk, session_id=issued_session.session.pk)
            return issued_session
    except IntegrityError:
        # The unique index on lower(email) decided a race between two sign-ups.
        raise EmailAlreadyRegistered from None


async def user_signup(*, email: str, password: str, client: ClientInfo) -> IssuedSession:
    email = UserManager.normalize_email(email)
    await throttle_hit("signup-ip", client.ip, settings.RATE_LIMIT_SIGNUP)
    password_validate(password, email=email)
    if await selectors.user_email_exists(email=email):
        raise EmailAlreadyRegistered  # answered without hashing, so never shed
    hasher_capacity_ensure()
    encoded = await password_hash(password)
    issued_session = await sync_to_async(user_create_with_session)(
        email=email, encoded_password=encoded, client=client
    )
    logger.info(
        "User signed up: %s",
        issued_session.user.pk,
        extra={"event": "user.signed_up", "user_id": str(issued_session.user.pk)},
    )
    return issued_session


def failure_budgets(email: str, ip: str | None) -> list[tuple[str, str, Rate]]:
    """What a wrong password spends: the (email, client IP) budget, small, so that guessing
    from one address gets nowhere; and the email's budget from everywhere, much larger, so that
    no single address can lock the account out (README, "Throttles")."""
    return [
        ("signin-failed-email-ip", f"{email} {ip}", settings.RATE_LIMIT_SIGNIN_FAILED),
        ("signin-failed-email", email, settings.RATE_LIMIT_SIGNIN_FAILED_EMAIL),
    ]


async def password_guess(
    *, email: str, ip: str | None, verify: Callable[[], Awaitable[bool]]
) -> bool:
    """Check one password for `email` against its failure budgets, counted atomically before
    any hashing (concurrent guesses cannot all slip under the budget); a correct password takes
    its count back. Over budget: Throttled, nothing hashed. A request shed for want of a
    hashing slot (HasherOverloaded, 503) spends no budget."""
    hasher_capacity_ensure()
    attempts: list[Attempt | None] = []
    try:
        for scope, identity, rate in failure_budgets(email, ip):
            attempts.append(await throttle_count(scope, identity, rate))
        verified = await verify()
    except (Throttled, HasherOverloaded):
        for attempt in attempts:
            await throttle_forgive(attempt)
        raise
    if verified:
        for attempt in attempts:
            await throttle_forgive(attempt)
    return verified


async def user_signin(
    *, email: str, password: str, client: ClientInfo
) -> IssuedSession | SecondFactorChallenge:
    """The session, or, for a user with a second factor, the challenge to answer first. The
    password is hashed here once; the second factor's step never hashes it again."""
    email = UserManager.normalize_email(email)
    await throttle_hit("signin-ip", client.ip, settings.RATE_LIMIT_SIGNIN)
    hasher_capacity_ensure()
    user = await selectors.user_get_by_email(email=email)

    async def verify() -> bool:
        if user is None or not user.is_active or not user.has_usable_password():
            # Same work as a real check, so unknown and known emails take the same time.
            await password_verify_dummy(password)
            return False
        return await password_verify(password, user.password)

    verified = await password_guess(email=email, ip=client.ip, verify=verify)
    if not verified or user is None:
        # The email is never logged; whose account was guessed at is the throttles' business.
        logger.info("Sign-in refused: wrong email or password", extra={"event": "signin.failed"})
    if user is None:
        raise InvalidCredentials
    if not verified:
        # Only for a known email: an unknown one has no account to record it on.
        await sync_to_async(auth_event_record)("signin_failed", user_id=user.pk, client=client)
        raise InvalidCredentials
    return await sync_to_async(user_signin_complete)(user=user, client=client, now=timezone.now())


def user_signin_complete(
    *, user: User, client: ClientInfo, now: datetime
) -> IssuedSession | SecondFactorChallenge:
    """After the right password: a second factor's challenge when one is required (asked in
    the same transaction, so no extra round trip), else the session and its event."""
    with transaction.atomic():
        challenge = second_factor_challenge(
            ChallengeRequest(user=user, ip=client.ip, user_agent=client.user_agent, now=now)
        )
        if challenge is not None:
            return challenge
        return auth_session_issue_with_event(user=user, client=client, now=now)


def auth_session_issue_with_event(
    *, user: User, client: ClientInfo, now: datetime, detail: dict[str, Any] | None = None
) -> IssuedSession:
    """A signed-in session and its `signin` event. Call inside a transaction."""
    issued_session = auth_session_issue(user=user, client=client, now=now)
    client.event("signin", user_id=user.pk, session_id=issued_session.session.pk, detail=detail)
    return issued_session


class RefreshReuse(Exception):
    """A rotated refresh token came back: someone holds a copy."""


def refresh_token_rotate_sync(*, token: str, client: ClientInfo) -> IssuedSession:
    now = timezone.now()
    try:
        with transaction.atomic():
            current = (
                RefreshToken.objects.select_for_update()
                .select_related("session__user")
                .filter(token_hash=refresh_token_hash(token))
                .first()
            )
            if current is None:
                raise InvalidRefreshToken
            session = current.session
            if current.used_at is not None:
                raise RefreshReuse(session.pk, session.user_id)
            if (
                current.expires_at <= now
                or not session.is_live_at(now)
                or not session.user.is_active
            ):
                raise InvalidRefreshToken
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
                token_hash=refresh_token_hash(new_token),
                parent=current,
                created_at=now,
                expires_at=session.expires_at,
            )
            return issued(user=session.user, session=session, refresh_token=new_token, now=now)
    except RefreshReuse as reuse:
        session_id, user_id = reuse.args
        with transaction.atomic():
            revoked = auth_sessions_revoke_sync(
                sessions=AuthSession.objects.filter(pk=session_id),
                reason=RevokedReason.REFRESH_REUSE,
                now=now,
            )
            if revoked:
                client.event("refresh_reuse", user_id=user_id, session_id=session_id)
        logger.warning(
            "Refresh token reuse: session %s revoked",
            session_id,
            extra={"event": "refresh_token.reused", "session_id": str(session_id)},
        )
        raise InvalidRefreshToken from None


async def refresh_token_rotate(*, token: str, client: ClientInfo) -> IssuedSession:
    await throttle_hit("refresh-ip", client.ip, settings.RATE_LIMIT_REFRESH)
    return await sync_to_async(refresh_token_rotate_sync)(token=token, client=client)


def auth_sessions_revoke_sync(
    *, sessions: AuthSessionQuerySet, reason: RevokedReason, now: datetime | None = None
) -> int:
    """Revoke the live sessions among `sessions` (see AuthSessionQuerySet.revoke)."""
    return sessions.revoke(reason=reason, now=now)


def auth_session_signout_sync(*, session: AuthSession, client: ClientInfo) -> None:
    with transaction.atomic():
        revoked = auth_sessions_revoke_sync(
            sessions=AuthSession.objects.filter(pk=session.pk), reason=RevokedReason.SIGNOUT
        )
        if revoked:
            client.event("signout", user_id=session.user_id, session_id=session.pk)


async def auth_session_signout(*, session: AuthSession, client: ClientInfo) -> None:
    await sync_to_async(auth_session_signout_sync)(session=session, client=client)


def auth_session_revoke_own_sync(
    *, caller: AuthSession, session_id: uuid.UUID, client: ClientInfo
) -> None:
    """Revoke one live session of the caller's user; SessionNotFound (404) for any other."""
    now = timezone.now()
    with transaction.atomic():
        revoked = auth_sessions_revoke_sync(
            sessions=AuthSession.objects.filter(
                pk=session_id, user_id=caller.user_id, expires_at__gt=now
            ),
            reason=RevokedReason.SIGNOUT,
            now=now,
        )
        if not revoked:
            raise SessionNotFound
        client.event("session_revoked", user_id=caller.user_id, session_id=session_id)


async def auth_session_revoke_own(
    *, caller: AuthSession, session_id: uuid.UUID, client: ClientInfo
) -> None:
    await sync_to_async(auth_session_revoke_own_sync)(
        caller=caller, session_id=session_id, client=client
    )


def auth_sessions_revoke_others_sync(*, caller: AuthSession, client: ClientInfo) -> int:
    """Revoke every live session of the caller's user but the calling one; one event."""
    now = timezone.now()
    with transaction.atomic():
        revoked = auth_sessions_revoke_sync(
            sessions=AuthSession.objects.filter(user_id=caller.user_id, expires_at__gt=now).exclude(
                pk=caller.pk
            ),
            reason=RevokedReason.SIGNOUT,
            now=now,
        )
        if revoked:
            client.event(
                "session_revoked",
                user_id=caller.user_id,
                session_id=caller.pk,
                detail={"revoked": revoked, "scope": "others"},
            )
        return revoked


async def auth_sessions_revoke_others(*, caller: AuthSession, client: ClientInfo) -> int:
    return await sync_to_async(auth_sessions_revoke_others_sync)(caller=caller, client=client)


def user_password_set_sync(
    *, session: AuthSession, encoded_password: str, client: ClientInfo
) -> IssuedSession:
    """Store the new password, revoke every session of the user and open a new one, in one
    transaction; refused (401) if the calling session died meanwhile (signed out elsewhere,
    revoked by an operator) while the new password was being hashed."""
    user = session.user
    now = timezone.now()
    with transaction.atomic():
        calling = AuthSession.objects.select_for_update().filter(pk=session.pk).first()
        if calling is None or not calling.is_live_at(now):
            raise AccessTokenRefused
        User.objects.filter(pk=user.pk).update(password=encoded_password)
        user.password = encoded_password
        auth_sessions_revoke_sync(
            sessions=user.auth_sessions.all(), reason=RevokedReason.PASSWORD_CHANGE, now=now
        )
        issued_session = auth_session_issue(user=user, client=client, now=now)
        client.event("password_changed", user_id=user.pk, session_id=issued_session.session.pk)
        return issued_session


async def user_password_confirm(
    *, user: User, password: str, client: ClientInfo, purpose: str
) -> None:
    """Check the signed-in user's current password (password change, turning a second factor
    off): the sign-in's failure budgets, counted before hashing; a wrong one records
    `signin_failed` and raises CurrentPasswordIncorrect."""
    if not await password_guess(
        email=user.email, ip=client.ip, verify=lambda: password_verify(password, user.password)
    ):
        await sync_to_async(auth_event_record)(
            "signin_failed", user_id=user.pk, client=client, detail={"during": purpose}
        )
        raise CurrentPasswordIncorrect


async def user_password_change(
    *, session: AuthSession, current_password: str, new_password: str, client: ClientInfo
) -> IssuedSession:
    """Change the password of the session's user. A wrong current password spends the same
    failure budgets as a wrong sign-in, and the route has its own rate per user and per client
    IP, all counted before any hashing: one stolen access token is no password oracle, and
    one account cannot fill the hashing pool."""
    user = session.user
    password_validate(new_password, email=user.email, field="new_password")  # no hashing
    await throttle_hit("password-change-user", str(user.pk), settings.RATE_LIMIT_PASSWORD_CHANGE)
    await throttle_hit("password-change-ip", client.ip, settings.RATE_LIMIT_PASSWORD_CHANGE)
    await user_password_confirm(
        user=user, password=current_password, client=client, purpose="password_change"
    )
    encoded = await password_hash(new_password)
    return await sync_to_async(user_password_set_sync)(
        session=session, encoded_password=encoded, client=client
    )


async def auth_session_touch(*, session: AuthSession, now: datetime) -> None:
    """Record use at most once a minute: a write per request would cost more than it tells."""
    if now - session.last_used_at > timedelta(minutes=1):
        session.last_used_at = now
        await AuthSession.objects.filter(pk=session.pk).aupdate(last_used_at=now)


def auth_sessions_purge(*, now: datetime, revoked_before: datetime) -> tuple[int, int]:
    """Delete dead sessions (their refresh tokens cascade) and day-old throttle counters."""
    from django.db.models import Q

    from accounts.models import ThrottleCounter

    dead = AuthSession.objects.filter(Q(expires_at__lte=now) | Q(revoked_at__lte=revoked_before))
    sessions = dead.count()
    dead.delete()
    counters, _ = ThrottleCounter.objects.filter(
        window_start__lt=int(now.timestamp()) - 86_400
    ).delete()
    return sessions, counters
