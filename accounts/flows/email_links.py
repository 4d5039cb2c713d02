"""The links sent by email that prove an address: verification (and sending it again), and the
change of address (asked with the current password, confirmed from the new mailbox)."""

import logging

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts import selectors, tasks
from accounts.client import ClientInfo
from accounts.exceptions import EmailAlreadyRegistered, Throttled
from accounts.flows.password import user_password_confirm
from accounts.managers import UserManager
from accounts.models import AuthSession, EmailToken, EmailTokenPurpose, User
from accounts.signals import EventType
from accounts.throttles import throttle_hit
from toolkit.tasks import enqueue_with_transaction

logger = logging.getLogger("accounts")


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


async def email_verify(*, token: str, client: ClientInfo) -> User:
    """Mark the address verified with a verification link's token."""
    return await sync_to_async(_email_verify)(token=token, client=client)


def _email_verify(*, token: str, client: ClientInfo) -> User:
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
    await sync_to_async(_email_change_enqueue)(session=session, new_email=new_email)


def _email_change_enqueue(*, session: AuthSession, new_email: str) -> None:
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
        tasks.security_notice_enqueue(user_id=user.pk, kind="email_change_notice", to=user.email)


async def email_change_confirm(*, token: str, client: ClientInfo) -> User:
    """Move the account to the address a confirmation link was sent to; it counts as verified."""
    return await sync_to_async(_email_change_confirm)(token=token, client=client)


def _email_change_confirm(*, token: str, client: ClientInfo) -> User:
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
            tasks.security_notice_enqueue(
                user_id=user.pk, kind="email_changed_notice", to=old_email
            )
            client.event(EventType.EMAIL_CHANGED, user_id=user.pk)
    except IntegrityError:
        # The unique index decided a race with a sign-up or another change.
        raise EmailAlreadyRegistered from None
    logger.info("Email changed: user %s", user.pk)
    return user
