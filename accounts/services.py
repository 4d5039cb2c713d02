"""Writes: sign-up, sign-in, token refresh with rotation, sign-out, password change, and the
flows of links sent by email (verification, password reset, email change)."""

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts import selectors, tasks
from accounts.exceptions import (
    AccessTokenRefused,
    CurrentPasswordIncorrect,
    EmailAlreadyRegistered,
    EmailNotVerified,
    HasherOverloaded,
    InvalidCredentials,
    InvalidEmailToken,
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
from accounts.models import (
    AuthSession,
    EmailToken,
    EmailTokenPurpose,
    RefreshToken,
    RevokedReason,
    User,
)
from accounts.throttles import Attempt, throttle_count, throttle_forgive, throttle_hit
from accounts.tokens import (
    access_token_encode,
    email_token_hash,
    refresh_token_hash,
    refresh_token_new,
)
from accounts.validators import password_problems
from toolkit.rates import Rate
from toolkit.tasks import enqueue_with_transaction

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
            # The first verification message: enqueued with the account, or not at all.
            enqueue_with_transaction(tasks.email_verification_send, user_id=str(user.pk))
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
    logger.info("User signed up: %s", issued_session.user.pk)
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
        raise InvalidCredentials
    if settings.REQUIRE_VERIFIED_EMAIL and not user.email_verified:
        # The right password: the owner, who may have lost the first link.
        await email_verification_send_again(user=user)
    email_verified_ensure(user)
    now = timezone.now()
    return await sync_to_async(auth_session_issue_atomic)(user=user, client=client, now=now)


def email_verified_ensure(user: User) -> None:
    """With REQUIRE_VERIFIED_EMAIL, only users who followed a verification link (or reset their
    password by email) get sessions: EmailNotVerified (403) for the others."""
    if settings.REQUIRE_VERIFIED_EMAIL and not user.email_verified:
        raise EmailNotVerified


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
            email_verified_ensure(session.user)
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
        logger.warning("Refresh token reuse: session %s revoked", reuse.args[0])
        raise InvalidRefreshToken from None


async def refresh_token_rotate(*, token: str, client: ClientInfo) -> IssuedSession:
    await throttle_hit("refresh-ip", client.ip, settings.RATE_LIMIT_REFRESH)
    return await sync_to_async(refresh_token_rotate_sync)(token=token, client=client)


def auth_sessions_revoke_sync(
    *, sessions: QuerySet[AuthSession], reason: RevokedReason, now: datetime | None = None
) -> int:
    """Revoke the live sessions among `sessions` (sign-out everywhere, theft, admin, password
    change); already revoked ones keep their first reason and time. Returns how many."""
    return sessions.filter(revoked_at__isnull=True).update(
        revoked_at=now or timezone.now(), revoked_reason=reason
    )


async def auth_session_revoke(
    *, session: AuthSession, reason: RevokedReason = RevokedReason.SIGNOUT
) -> None:
    await AuthSession.objects.filter(pk=session.pk, revoked_at__isnull=True).aupdate(
        revoked_at=timezone.now(), revoked_reason=reason
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
        enqueue_with_transaction(
            tasks.security_notice_send, user_id=str(user.pk), kind="password_changed"
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


def auth_sessions_purge(*, now: datetime, revoked_before: datetime) -> tuple[int, int, int]:
    """Delete dead sessions (their refresh tokens cascade), used and expired email tokens, and
    day-old throttle counters; returns how many of each."""
    from django.db.models import Q

    from accounts.models import ThrottleCounter

    dead = AuthSession.objects.filter(Q(expires_at__lte=now) | Q(revoked_at__lte=revoked_before))
    sessions = dead.count()
    dead.delete()
    email_tokens, _ = EmailToken.objects.filter(
        Q(used_at__isnull=False) | Q(expires_at__lte=now)
    ).delete()
    counters, _ = ThrottleCounter.objects.filter(
        window_start__lt=int(now.timestamp()) - 86_400
    ).delete()
    return sessions, email_tokens, counters


# --- Links sent by email ----------------------------------------------------------------------


async def email_verification_resend(*, user: User, client: ClientInfo) -> None:
    """Enqueue a new verification message, unless the address is verified already (the answer is
    the same either way: it is the caller's own account)."""
    await throttle_hit("verify-resend-ip", client.ip, settings.RATE_LIMIT_VERIFY_RESEND)
    await throttle_hit("verify-resend-email", user.email, settings.RATE_LIMIT_VERIFY_RESEND_EMAIL)
    if not user.email_verified:
        await tasks.email_verification_send.aenqueue(user_id=str(user.pk))


async def email_verification_send_again(*, user: User) -> None:
    """A new verification link for a sign-in refused for want of one, within the address's
    resend budget (beyond it nothing is sent, and the answer is the same 403)."""
    try:
        await throttle_hit(
            "verify-resend-email", user.email, settings.RATE_LIMIT_VERIFY_RESEND_EMAIL
        )
    except Throttled:
        return
    await tasks.email_verification_send.aenqueue(user_id=str(user.pk))


async def password_reset_request(*, email: str, client: ClientInfo) -> None:
    """Enqueue the reset message task, and nothing else: no lookup, no hashing. Whether the
    address has an account is decided by the task, so registered and unknown addresses get the
    same answer in the same time (one insert with the database backend)."""
    email = UserManager.normalize_email(email)
    await throttle_hit("password-reset-ip", client.ip, settings.RATE_LIMIT_PASSWORD_RESET)
    await throttle_hit("password-reset-email", email, settings.RATE_LIMIT_PASSWORD_RESET_EMAIL)
    await tasks.password_reset_send.aenqueue(email=email)


def email_token_usable(*, token: str, purpose: EmailTokenPurpose, now: datetime) -> EmailToken:
    """The token's row, locked (call inside a transaction); InvalidEmailToken (400) when it is
    unknown, of another purpose, used, expired, or its user is inactive or moved address."""
    found = (
        EmailToken.objects.select_for_update()
        .select_related("user")
        .filter(token_hash=email_token_hash(token), purpose=purpose)
        .first()
    )
    if found is None or not found.is_usable_at(now):
        raise InvalidEmailToken
    return found


def email_verify_sync(*, token: str) -> User:
    now = timezone.now()
    with transaction.atomic():
        found = email_token_usable(token=token, purpose=EmailTokenPurpose.VERIFY_EMAIL, now=now)
        found.used_at = now
        found.save(update_fields=["used_at"])
        user = found.user
        if not user.email_verified:
            User.objects.filter(pk=user.pk).update(email_verified=True)
            user.email_verified = True
    logger.info("Email verified: user %s", user.pk)
    return user


async def email_verify(*, token: str) -> User:
    return await sync_to_async(email_verify_sync)(token=token)


def password_reset_user_sync(*, token: str) -> User:
    """Whose password a reset token would set (checked again when it is used)."""
    with transaction.atomic():
        found = email_token_usable(
            token=token, purpose=EmailTokenPurpose.PASSWORD_RESET, now=timezone.now()
        )
        return found.user


def password_reset_complete_sync(
    *, token: str, encoded_password: str, client: ClientInfo
) -> IssuedSession:
    """In one transaction: the token used (it may have been used meanwhile: 400), the new
    password stored, the address marked verified (the user proved they read its mail), every
    session revoked, a new one opened, and the notice enqueued."""
    now = timezone.now()
    with transaction.atomic():
        found = email_token_usable(token=token, purpose=EmailTokenPurpose.PASSWORD_RESET, now=now)
        found.used_at = now
        found.save(update_fields=["used_at"])
        user = found.user
        User.objects.filter(pk=user.pk).update(password=encoded_password, email_verified=True)
        user.password = encoded_password
        user.email_verified = True
        auth_sessions_revoke_sync(
            sessions=user.auth_sessions.all(), reason=RevokedReason.PASSWORD_RESET, now=now
        )
        enqueue_with_transaction(
            tasks.security_notice_send, user_id=str(user.pk), kind="password_reset_notice"
        )
        issued_session = auth_session_issue(user=user, client=client, now=now)
    logger.info("Password reset: user %s", user.pk)
    return issued_session


async def password_reset_confirm(
    *, token: str, new_password: str, client: ClientInfo
) -> IssuedSession:
    """Set a new password with a reset link's token. A bad token is refused before any hashing;
    a weak password is a 422 and leaves the token usable."""
    user = await sync_to_async(password_reset_user_sync)(token=token)
    password_validate(new_password, email=user.email, field="new_password")
    hasher_capacity_ensure()
    encoded = await password_hash(new_password)
    return await sync_to_async(password_reset_complete_sync)(
        token=token, encoded_password=encoded, client=client
    )


def email_change_enqueue_sync(*, user: User, new_email: str) -> None:
    """Both messages or neither: the link to the new address, the notice to the current one."""
    with transaction.atomic():
        enqueue_with_transaction(tasks.email_change_send, user_id=str(user.pk), new_email=new_email)
        enqueue_with_transaction(
            tasks.security_notice_send,
            user_id=str(user.pk),
            kind="email_change_notice",
            to=user.email,
        )


async def email_change_request(
    *, session: AuthSession, new_email: str, current_password: str, client: ClientInfo
) -> None:
    """Ask to move the account to `new_email`. The current password is checked like a sign-in's
    (same failure budgets, counted before hashing) before anything is said about the new
    address, so a stolen access token is no oracle for which addresses are registered."""
    user = session.user
    new_email = UserManager.normalize_email(new_email)
    await throttle_hit("email-change-ip", client.ip, settings.RATE_LIMIT_EMAIL_CHANGE)
    await throttle_hit("email-change-email", new_email, settings.RATE_LIMIT_EMAIL_CHANGE_EMAIL)
    if not await password_guess(
        email=user.email,
        ip=client.ip,
        verify=lambda: password_verify(current_password, user.password),
    ):
        raise CurrentPasswordIncorrect
    if await selectors.user_email_exists(email=new_email):
        raise EmailAlreadyRegistered
    await sync_to_async(email_change_enqueue_sync)(user=user, new_email=new_email)


def email_change_confirm_sync(*, token: str) -> User:
    now = timezone.now()
    try:
        with transaction.atomic():
            found = email_token_usable(token=token, purpose=EmailTokenPurpose.EMAIL_CHANGE, now=now)
            user = found.user
            if User.objects.filter(email=found.email).exclude(pk=user.pk).exists():
                raise EmailAlreadyRegistered  # taken since the link was sent; the link stays
            found.used_at = now
            found.save(update_fields=["used_at"])
            User.objects.filter(pk=user.pk).update(email=found.email, email_verified=True)
            user.email = found.email
            user.email_verified = True
    except IntegrityError:
        # The unique index decided a race with a sign-up or another change.
        raise EmailAlreadyRegistered from None
    logger.info("Email changed: user %s", user.pk)
    return user


async def email_change_confirm(*, token: str) -> User:
    return await sync_to_async(email_change_confirm_sync)(token=token)
