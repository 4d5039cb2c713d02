"""Writes: sign-up, sign-in, token refresh with rotation, sign-out, the user's own sessions,
password change, and the flows of links sent by email (verification, password reset, email
change). Each security-relevant change sends `auth_event` inside its transaction."""

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

from accounts import selectors, tasks
from accounts.client import USER_AGENT_MAX_LENGTH, ClientInfo
from accounts.exceptions import (
    AccessTokenRefused,
    CurrentPasswordIncorrect,
    EmailAlreadyRegistered,
    EmailNotVerified,
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
from accounts.models import (
    AuthSession,
    AuthSessionQuerySet,
    EmailToken,
    EmailTokenPurpose,
    RefreshToken,
    RevokedReason,
    User,
)
from accounts.second_factor import ChallengeRequest, SecondFactorChallenge, second_factor_challenge
from accounts.signals import EventType
from accounts.throttles import budgets_spend, throttle_hit
from accounts.tokens import access_token_encode, refresh_token_new
from accounts.validators import password_problems
from toolkit import metrics
from toolkit.rates import Rate
from toolkit.tasks import enqueue_with_transaction
from toolkit.tokens import token_digest

logger = logging.getLogger("accounts")


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
        token_hash=token_digest(refresh_token),
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
            # The first verification message: enqueued with the account, or not at all.
            enqueue_with_transaction(tasks.email_verification_send, user_id=str(user.pk))
            issued_session = auth_session_issue(user=user, client=client, now=now)
            client.event(EventType.SIGNUP, user_id=user.pk, session_id=issued_session.session.pk)
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
    """Check one password for `email` against its failure budgets (accounts.throttles.
    budgets_spend: counted before any hashing, given back by a correct password or by a request
    refused before the check). Over budget: Throttled, nothing hashed. A request shed for want
    of a hashing slot (HasherOverloaded, 503) spends no budget."""
    hasher_capacity_ensure()
    return await budgets_spend(failure_budgets(email, ip), verify)


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
        await sync_to_async(client.event_alone)(EventType.SIGNIN_FAILED, user_id=user.pk)
        raise InvalidCredentials
    if settings.REQUIRE_VERIFIED_EMAIL and not user.email_verified:
        # The right password: the owner, who may have lost the first link.
        await email_verification_send_again(user=user)
    email_verified_ensure(user)
    return await sync_to_async(user_signin_complete)(user=user, client=client, now=timezone.now())


def email_verified_ensure(user: User) -> None:
    """With REQUIRE_VERIFIED_EMAIL, only users who followed a verification link (or reset their
    password by email) get sessions: EmailNotVerified (403) for the others."""
    if settings.REQUIRE_VERIFIED_EMAIL and not user.email_verified:
        raise EmailNotVerified


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
    client.event(
        EventType.SIGNIN, user_id=user.pk, session_id=issued_session.session.pk, detail=detail
    )
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
                .filter(token_hash=token_digest(token))
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
                token_hash=token_digest(new_token),
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
                client.event(EventType.REFRESH_REUSE, user_id=user_id, session_id=session_id)
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
            client.event(EventType.SIGNOUT, user_id=session.user_id, session_id=session.pk)


async def auth_session_signout(*, session: AuthSession, client: ClientInfo) -> None:
    await sync_to_async(auth_session_signout_sync)(session=session, client=client)


def auth_session_revoke_own_sync(
    *, caller: AuthSession, session_id: uuid.UUID, client: ClientInfo
) -> None:
    """Revoke one live session of the caller's user; SessionNotFound (404) for any other."""
    now = timezone.now()
    with transaction.atomic():
        revoked = auth_sessions_revoke_sync(
            sessions=AuthSession.objects.live(now).filter(pk=session_id, user_id=caller.user_id),
            reason=RevokedReason.SIGNOUT,
            now=now,
        )
        if not revoked:
            raise SessionNotFound
        client.event(EventType.SESSION_REVOKED, user_id=caller.user_id, session_id=session_id)


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
            sessions=AuthSession.objects.live(now)
            .filter(user_id=caller.user_id)
            .exclude(pk=caller.pk),
            reason=RevokedReason.SIGNOUT,
            now=now,
        )
        if revoked:
            client.event(
                EventType.SESSION_REVOKED,
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
    """Store the new password (which ends every session, link and challenge of the user) and
    open a new session, in one transaction; refused (401) if the calling session died meanwhile
    (signed out elsewhere, revoked by an operator) while the new password was being hashed."""
    user = session.user
    now = timezone.now()
    with transaction.atomic():
        calling = AuthSession.objects.live(now).select_for_update().filter(pk=session.pk)
        if calling.first() is None:  # locked, or waited for and then found revoked
            raise AccessTokenRefused
        # Through User.save, the one home of what a new password ends: links, challenges and
        # every session (this one too: a new one is opened below).
        user.password_store(encoded_password, reason=RevokedReason.PASSWORD_CHANGE, now=now)
        enqueue_with_transaction(
            tasks.security_notice_send,
            user_id=str(user.pk),
            kind="password_changed",
            to=user.email,
        )
        issued_session = auth_session_issue(user=user, client=client, now=now)
        client.event(
            EventType.PASSWORD_CHANGED, user_id=user.pk, session_id=issued_session.session.pk
        )
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
        await sync_to_async(client.event_alone)(
            EventType.SIGNIN_FAILED, user_id=user.pk, detail={"during": purpose}
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


def email_verify_sync(*, token: str, client: ClientInfo) -> User:
    now = timezone.now()
    with transaction.atomic():
        found = EmailToken.objects.consume(
            token=token, purpose=EmailTokenPurpose.VERIFY_EMAIL, now=now
        )
        user = found.user
        if not user.email_verified:
            User.objects.filter(pk=user.pk).update(email_verified=True)
            user.email_verified = True
            client.event(EventType.EMAIL_VERIFIED, user_id=user.pk)
    logger.info("Email verified: user %s", user.pk)
    return user


async def email_verify(*, token: str, client: ClientInfo) -> User:
    return await sync_to_async(email_verify_sync)(token=token, client=client)


def password_reset_user_sync(*, token: str) -> User:
    """Whose password a reset token would set (checked again when it is used)."""
    with transaction.atomic():
        found = EmailToken.objects.usable(
            token=token, purpose=EmailTokenPurpose.PASSWORD_RESET, now=timezone.now()
        )
        return found.user


def password_reset_complete_sync(
    *, token: str, encoded_password: str, client: ClientInfo
) -> IssuedSession | SecondFactorChallenge:
    """In one transaction: the token used (it may have been used meanwhile: 400), the new
    password stored (every session, other link and challenge of the user ends), the address
    marked verified (the user proved they read its mail), the notice enqueued, and a new session
    opened; or, for a user with a second factor, the sign-in's challenge instead. A reset proves
    the mailbox, not the second factor: it must not open a session that sign-in would not."""
    now = timezone.now()
    with transaction.atomic():
        found = EmailToken.objects.consume(
            token=token, purpose=EmailTokenPurpose.PASSWORD_RESET, now=now
        )
        user = found.user
        user.email_verified = True
        # Through User.save (see user_password_set_sync); this link is used already, so it is
        # not among the links that end.
        user.password_store(
            encoded_password,
            reason=RevokedReason.PASSWORD_RESET,
            now=now,
            also_update=["email_verified"],
        )
        enqueue_with_transaction(
            tasks.security_notice_send,
            user_id=str(user.pk),
            kind="password_reset_notice",
            to=user.email,
        )
        # Asked after the password was stored, so this challenge is not among those it ended.
        challenge = second_factor_challenge(
            ChallengeRequest(user=user, ip=client.ip, user_agent=client.user_agent, now=now)
        )
        answer: IssuedSession | SecondFactorChallenge
        if challenge is not None:
            client.event(EventType.PASSWORD_RESET, user_id=user.pk)
            answer = challenge
        else:
            answer = auth_session_issue(user=user, client=client, now=now)
            client.event(EventType.PASSWORD_RESET, user_id=user.pk, session_id=answer.session.pk)
    logger.info("Password reset: user %s", user.pk)
    return answer


async def password_reset_confirm(
    *, token: str, new_password: str, client: ClientInfo
) -> IssuedSession | SecondFactorChallenge:
    """Set a new password with a reset link's token: a session, or the second factor's challenge
    (answered at /api/auth/mfa/verify) for a user who has one. A bad token is refused before any
    hashing; a weak password is a 422 and leaves the token usable."""
    user = await sync_to_async(password_reset_user_sync)(token=token)
    password_validate(new_password, email=user.email, field="new_password")
    hasher_capacity_ensure()
    encoded = await password_hash(new_password)
    return await sync_to_async(password_reset_complete_sync)(
        token=token, encoded_password=encoded, client=client
    )


def email_change_enqueue_sync(*, session: AuthSession, new_email: str) -> None:
    """Both messages or neither: the link to the new address (made only while the asking
    session lives: see tasks.email_change_send), the notice to the current one."""
    user = session.user
    with transaction.atomic():
        enqueue_with_transaction(
            tasks.email_change_send,
            user_id=str(user.pk),
            new_email=new_email,
            session_id=str(session.pk),
        )
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
    await user_password_confirm(
        user=user, password=current_password, client=client, purpose="email_change"
    )
    if await selectors.user_email_exists(email=new_email):
        raise EmailAlreadyRegistered
    await sync_to_async(email_change_enqueue_sync)(session=session, new_email=new_email)


def email_change_confirm_sync(*, token: str, client: ClientInfo) -> User:
    now = timezone.now()
    try:
        with transaction.atomic():
            found = EmailToken.objects.consume(
                token=token, purpose=EmailTokenPurpose.EMAIL_CHANGE, now=now
            )
            user = found.user
            if User.objects.filter(email=found.email).exclude(pk=user.pk).exists():
                # Taken since the link was sent: rolled back, the link stays usable.
                raise EmailAlreadyRegistered
            old_email = user.email
            User.objects.filter(pk=user.pk).update(email=found.email, email_verified=True)
            user.email = found.email
            user.email_verified = True
            # The address that loses the account hears of it, with the change or not at all.
            enqueue_with_transaction(
                tasks.security_notice_send,
                user_id=str(user.pk),
                kind="email_changed_notice",
                to=old_email,
            )
            client.event(EventType.EMAIL_CHANGED, user_id=user.pk)
    except IntegrityError:
        # The unique index decided a race with a sign-up or another change.
        raise EmailAlreadyRegistered from None
    logger.info("Email changed: user %s", user.pk)
    return user


async def email_change_confirm(*, token: str, client: ClientInfo) -> User:
    return await sync_to_async(email_change_confirm_sync)(token=token, client=client)
