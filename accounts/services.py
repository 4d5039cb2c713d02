"""Writes: sign-up, sign-in, token refresh with rotation, sign-out, password change."""

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts import selectors
from accounts.exceptions import (
    AccessTokenRefused,
    CurrentPasswordIncorrect,
    EmailAlreadyRegistered,
    HasherOverloaded,
    InvalidCredentials,
    InvalidRefreshToken,
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
from accounts.models import AuthSession, RefreshToken, RevokedReason, User
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
            return auth_session_issue(user=user, client=client, now=now)
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


async def user_signin(*, email: str, password: str, client: ClientInfo) -> IssuedSession:
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

    if not await password_guess(email=email, ip=client.ip, verify=verify) or user is None:
        # The email is never logged; whose account was guessed at is the throttles' business.
        logger.info("Sign-in refused: wrong email or password", extra={"event": "signin.failed"})
        raise InvalidCredentials
    now = timezone.now()
    return await sync_to_async(auth_session_issue_atomic)(user=user, client=client, now=now)


def auth_session_issue_atomic(*, user: User, client: ClientInfo, now: datetime) -> IssuedSession:
    with transaction.atomic():
        return auth_session_issue(user=user, client=client, now=now)


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
                raise RefreshReuse(session.pk)
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
        auth_sessions_revoke_sync(
            sessions=AuthSession.objects.filter(pk=reuse.args[0]),
            reason=RevokedReason.REFRESH_REUSE,
            now=now,
        )
        logger.warning(
            "Refresh token reuse: session %s revoked",
            reuse.args[0],
            extra={"event": "refresh_token.reused", "session_id": str(reuse.args[0])},
        )
        raise InvalidRefreshToken from None


async def refresh_token_rotate(*, token: str, client: ClientInfo) -> IssuedSession:
    await throttle_hit("refresh-ip", client.ip, settings.RATE_LIMIT_REFRESH)
    return await sync_to_async(refresh_token_rotate_sync)(token=token, client=client)


def auth_sessions_revoke_sync(
    *, sessions: QuerySet[AuthSession], reason: RevokedReason, now: datetime | None = None
) -> int:
    """Revoke the live sessions among `sessions` (sign-out everywhere, theft, admin, password
    change); already revoked ones keep their first reason and time. Returns how many."""
    count = sessions.filter(revoked_at__isnull=True).update(
        revoked_at=now or timezone.now(), revoked_reason=reason
    )
    sessions_revoked_count(reason, count)
    return count


def sessions_revoked_count(reason: str, count: int) -> None:
    """Count revocations once they are committed (now, outside a transaction)."""
    if count:
        transaction.on_commit(lambda: metrics.SESSIONS_REVOKED.labels(reason).inc(count))


async def auth_session_revoke(
    *, session: AuthSession, reason: RevokedReason = RevokedReason.SIGNOUT
) -> None:
    count = await AuthSession.objects.filter(pk=session.pk, revoked_at__isnull=True).aupdate(
        revoked_at=timezone.now(), revoked_reason=reason
    )
    if count:
        metrics.SESSIONS_REVOKED.labels(reason).inc(count)
        logger.info(
            "Session %s revoked (%s)",
            session.pk,
            reason,
            extra={"event": "session.revoked", "session_id": str(session.pk), "reason": reason},
        )


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
        return auth_session_issue(user=user, client=client, now=now)


async def user_password_change(
    *, session: AuthSession, current_password: str, new_password: str, client: ClientInfo
) -> IssuedSession:
    """Change the password of the session's user. A wrong current password spends the same
    failure budgets as a wrong sign-in, and the route has its own rate per user and per client
    IP, all counted before any hashing: one stolen access token is no password oracle, and
    one account cannot fill the hashing pool."""
    user = session.user
    await throttle_hit("password-change-user", str(user.pk), settings.RATE_LIMIT_PASSWORD_CHANGE)
    await throttle_hit("password-change-ip", client.ip, settings.RATE_LIMIT_PASSWORD_CHANGE)
    password_validate(new_password, email=user.email, field="new_password")
    if not await password_guess(
        email=user.email,
        ip=client.ip,
        verify=lambda: password_verify(current_password, user.password),
    ):
        raise CurrentPasswordIncorrect
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
