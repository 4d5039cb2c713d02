"""The password: changing it, resetting it by a link sent by email, and the checks every
password guess goes through (the failure budgets, the confirmation of the current password).

A new password is stored through User.password_store, so User.save ends what any new password
ends (every session, unused link and pending challenge of the user); nothing here revokes."""

import logging
from collections.abc import Awaitable, Callable

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts import tasks
from accounts.client import ClientInfo
from accounts.exceptions import AccessTokenRefused, CurrentPasswordIncorrect, WeakPassword
from accounts.flows.issue import IssuedSession, auth_session_issue
from accounts.hashing import hasher_capacity_ensure, password_hash, password_verify
from accounts.managers import UserManager
from accounts.models import AuthSession, EmailToken, EmailTokenPurpose, RevokedReason, User
from accounts.second_factor import ChallengeRequest, SecondFactorChallenge, second_factor_challenge
from accounts.signals import EventType
from accounts.throttles import budgets_spend, throttle_hit
from accounts.unverified import unverified_account_take_over
from accounts.validators import password_problems_off_loop
from toolkit.rates import Rate

logger = logging.getLogger("accounts")


async def password_validate(password: str, *, email: str, field: str = "password") -> None:
    """Django's AUTH_PASSWORD_VALIDATORS, off the event loop (the breached-password check waits
    on a network); WeakPassword (422) listing every problem."""
    errors = await password_problems_off_loop(password, email=email)
    if errors:
        raise WeakPassword(errors, field=field)


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
    await password_validate(new_password, email=user.email, field="new_password")  # no hashing
    await throttle_hit("password-change-user", str(user.pk), settings.RATE_LIMIT_PASSWORD_CHANGE)
    await throttle_hit("password-change-ip", client.ip, settings.RATE_LIMIT_PASSWORD_CHANGE)
    await user_password_confirm(
        user=user, password=current_password, client=client, purpose="password_change"
    )
    encoded = await password_hash(new_password)
    return await sync_to_async(_password_set)(
        session=session, encoded_password=encoded, client=client
    )


def _password_set(
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
        tasks.security_notice_enqueue(user_id=user.pk, kind="password_changed", to=user.email)
        issued = auth_session_issue(user=user, client=client, now=now)
        client.event(EventType.PASSWORD_CHANGED, user_id=user.pk, session_id=issued.session.pk)
        return issued


async def password_reset_request(*, email: str, client: ClientInfo) -> None:
    """Enqueue the reset message task, and nothing else: no lookup, no hashing. Whether the
    address has an account is decided by the task, so registered and unknown addresses get the
    same answer in the same time (one insert with the database backend)."""
    email = UserManager.normalize_email(email)
    await throttle_hit("password-reset-ip", client.ip, settings.RATE_LIMIT_PASSWORD_RESET)
    await throttle_hit("password-reset-email", email, settings.RATE_LIMIT_PASSWORD_RESET_EMAIL)
    await tasks.password_reset_send.aenqueue(email=email)


async def password_reset_confirm(
    *, token: str, new_password: str, client: ClientInfo
) -> IssuedSession | SecondFactorChallenge:
    """Set a new password with a reset link's token: a session, or the second factor's challenge
    (answered at /api/auth/mfa/verify) for a user who has one. A bad token is refused before any
    hashing; a weak password is a 422 and leaves the token usable."""
    user = await sync_to_async(_password_reset_user)(token=token)
    await password_validate(new_password, email=user.email, field="new_password")
    hasher_capacity_ensure()
    encoded = await password_hash(new_password)
    return await sync_to_async(_password_reset_complete)(
        token=token, encoded_password=encoded, client=client
    )


def _password_reset_user(*, token: str) -> User:
    """Whose password a reset token would set (checked again when it is used)."""
    with transaction.atomic():
        found = EmailToken.objects.usable(
            token=token, purpose=EmailTokenPurpose.PASSWORD_RESET, now=timezone.now()
        )
        return found.user


def _password_reset_complete(
    *, token: str, encoded_password: str, client: ClientInfo
) -> IssuedSession | SecondFactorChallenge:
    """In one transaction: the token used (it may have been used meanwhile: 400), the new
    password stored (every session, other link and challenge of the user ends), the address
    marked verified (the user proved they read its mail; an account that was not is taken over:
    accounts.unverified), the notice enqueued, and a new session opened; or, for a user with a
    second factor, the sign-in's challenge instead. A reset proves the mailbox, not the second
    factor: it must not open a session that sign-in would not."""
    now = timezone.now()
    with transaction.atomic():
        found = EmailToken.objects.consume(
            token=token, purpose=EmailTokenPurpose.PASSWORD_RESET, now=now
        )
        user = found.user
        was_verified, user.email_verified = user.email_verified, True
        # Through User.save (see _password_set); this link is used already, so it is not among
        # the links that end.
        user.password_store(
            encoded_password,
            reason=RevokedReason.PASSWORD_RESET,
            now=now,
            also_update=["email_verified"],
        )
        if not was_verified:
            # Whoever signed up with the address keeps no passkey, identity or second factor.
            unverified_account_take_over(
                user=user, method="password_reset", password_set=True, client=client, now=now
            )
        tasks.security_notice_enqueue(user_id=user.pk, kind="password_reset_notice", to=user.email)
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
