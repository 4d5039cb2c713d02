"""Background tasks (Django's Tasks framework) that send this service's email.

The request path only enqueues a task, as part of the transaction of the change it belongs to
(`toolkit.tasks.enqueue_with_transaction`); every decision that depends on the account (does the
address have one? is it verified already?) is made here, in the worker, so that the request's
answer and timing tell nothing. Tokens are made here too, and never leave this process except in
the message: task arguments (stored in the queue's table) and log lines hold no token.

A message the mail server does not take (down, timing out, refusing) raises: the task is recorded
as failed (the admin shows it, with the error), and the next attempt is enqueued with back-off
(EMAIL_SEND_ATTEMPTS, EMAIL_RETRY_DELAY), when the backend can defer a task (the database one).
"""

import logging
import smtplib
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import DatabaseError, transaction
from django.tasks import Task, task
from django.utils import timezone

from accounts.emails import duration_text, email_message_build, email_message_send
from accounts.models import AuthSession, EmailCode, EmailToken, EmailTokenPurpose, User
from accounts.tokens import email_code_digest, email_code_new, email_code_shown, email_token_new
from toolkit.links import link_with, link_with_token
from toolkit.tasks import enqueue_with_transaction, retry_delay, task_retry_later
from toolkit.tokens import token_digest

logger = logging.getLogger("accounts.tasks")

LINKS: dict[str, tuple[str, str, str]] = {
    # purpose: (message kind, link template setting, time-to-live setting)
    EmailTokenPurpose.VERIFY_EMAIL: (
        "verify_email",
        "FRONTEND_VERIFY_EMAIL_URL",
        "EMAIL_VERIFY_TTL",
    ),
    EmailTokenPurpose.PASSWORD_RESET: (
        "password_reset",
        "FRONTEND_RESET_PASSWORD_URL",
        "PASSWORD_RESET_TTL",
    ),
    EmailTokenPurpose.EMAIL_CHANGE: (
        "email_change",
        "FRONTEND_CONFIRM_EMAIL_CHANGE_URL",
        "EMAIL_CHANGE_TTL",
    ),
}
# The latest link wins for these: a new one kills the older ones still unused.
LATEST_WINS = (EmailTokenPurpose.PASSWORD_RESET, EmailTokenPurpose.EMAIL_CHANGE)


def permanent_failure(error: Exception) -> bool:
    """Refused recipients will be refused again: no retry. Anything else (connection refused or
    reset, timeout, a 4xx answer, authentication or TLS trouble an operator can fix) is tried
    again."""
    return isinstance(error, smtplib.SMTPRecipientsRefused)


def delivery_attempt(
    current: Task[..., Any], *, attempt: int, kwargs: dict[str, Any], send: Callable[[], None]
) -> None:
    """Run `send`; when it fails, enqueue the next attempt (with back-off) and raise, so that this
    attempt is recorded as failed with its error."""
    try:
        send()
    except DatabaseError:
        # Not the mail server's doing, and no retry could be enqueued reliably now: the worker
        # (accounts/management/commands/db_worker.py) puts this very task back in the queue.
        raise
    except Exception as error:
        name = current.name
        if permanent_failure(error):
            logger.error("Email task %s: the mail server refused the recipient, not retried", name)
            raise
        delay = retry_delay(
            attempt,
            first_delay=settings.EMAIL_RETRY_DELAY,
            longest_delay=settings.EMAIL_RETRY_LONGEST_DELAY,
        )
        if task_retry_later(
            current,
            attempt=attempt,
            attempts=settings.EMAIL_SEND_ATTEMPTS,
            delay=delay,
            kwargs=kwargs,
        ):
            logger.warning(
                "Email task %s: attempt %d of %d failed (%s); next attempt in %g s",
                name,
                attempt,
                settings.EMAIL_SEND_ATTEMPTS,
                type(error).__name__,
                delay,
            )
        else:
            logger.error(
                "Email task %s: attempt %d of %d failed (%s); not tried again",
                name,
                attempt,
                settings.EMAIL_SEND_ATTEMPTS,
                type(error).__name__,
            )
        raise


def link_send(*, user: User, purpose: EmailTokenPurpose, to: str) -> None:
    """Make a token, and send its link to `to`, in one transaction: the token exists only if the
    mail server took the message (a failed attempt leaves no token, and the older links of a
    latest-wins purpose keep working until a new one is really sent)."""
    kind, template_setting, ttl_setting = LINKS[purpose]
    ttl = int(getattr(settings, ttl_setting))
    token = email_token_new()
    now = timezone.now()
    with transaction.atomic():
        if purpose in LATEST_WINS:
            EmailToken.objects.filter(user=user, purpose=purpose, used_at__isnull=True).delete()
        EmailToken.objects.create(
            user=user,
            purpose=purpose,
            token_hash=token_digest(token),
            email=to,
            created_at=now,
            expires_at=now + timedelta(seconds=ttl),
        )
        link = link_with_token(getattr(settings, template_setting), token)
        email_message_send(
            email_message_build(kind=kind, to=to, context={"link": link, "ttl": duration_text(ttl)})
        )
    logger.info("Sent %s link to user %s", purpose, user.pk)


def active_user(user_id: str) -> User | None:
    return User.objects.filter(pk=uuid.UUID(user_id), is_active=True).first()


@task
def email_verification_send(*, user_id: str, attempt: int = 1) -> None:
    """A verification link to the user's address, unless it is verified already."""

    def send() -> None:
        user = active_user(user_id)
        if user is None or user.email_verified:
            return  # a verified address is never sent a verification again
        link_send(user=user, purpose=EmailTokenPurpose.VERIFY_EMAIL, to=user.email)

    delivery_attempt(
        email_verification_send, attempt=attempt, kwargs={"user_id": user_id}, send=send
    )


@task
def password_reset_send(*, email: str, attempt: int = 1) -> None:
    """A reset link, if `email` (canonical form) belongs to an active account; else nothing, and
    the request that enqueued this answered exactly as for a registered address."""

    def send() -> None:
        user = User.objects.filter(email=email, is_active=True).first()
        if user is None:
            logger.info("Password reset requested for an address without an active account")
            return
        link_send(user=user, purpose=EmailTokenPurpose.PASSWORD_RESET, to=user.email)

    delivery_attempt(password_reset_send, attempt=attempt, kwargs={"email": email}, send=send)


@task
def email_change_send(*, user_id: str, new_email: str, session_id: str, attempt: int = 1) -> None:
    """A confirmation link to the new address, unless another account took it meanwhile, or the
    session that asked for it has ended: a password changed or reset since the request (which
    revokes every session) must not be followed by a link made from it, however late a worker
    gets to this task. The user's row stays locked until the link is sent, so a new password
    written meanwhile waits, and then ends the link with the others."""

    def send() -> None:
        with transaction.atomic():
            user = User.objects.select_for_update().filter(pk=uuid.UUID(user_id)).first()
            if user is None or not user.is_active or user.email == new_email:
                return
            asking = AuthSession.objects.live(timezone.now())
            if not asking.filter(pk=uuid.UUID(session_id), user=user).exists():
                logger.info("Email change of user %s: the session that asked has ended", user.pk)
                return
            if User.objects.filter(email=new_email).exists():
                logger.info("Email change of user %s: the new address was taken meanwhile", user.pk)
                return
            link_send(user=user, purpose=EmailTokenPurpose.EMAIL_CHANGE, to=new_email)

    delivery_attempt(
        email_change_send,
        attempt=attempt,
        kwargs={"user_id": user_id, "new_email": new_email, "session_id": session_id},
        send=send,
    )


@task
def email_code_send(*, email: str, attempt: int = 1) -> None:
    """A sign-in code, if `email` (canonical form) belongs to an active account; else nothing, and
    the request that enqueued this answered exactly as for a registered address. The code is made
    here and stored with the send, replacing the address's older one only once it has gone out."""

    def send() -> None:
        user = User.objects.filter(email=email, is_active=True).first()
        if user is None:
            logger.info("Sign-in code requested for an address without an active account")
            return
        code = email_code_new()
        now = timezone.now()
        ttl = settings.EMAIL_CODE_TTL
        with transaction.atomic():
            EmailCode.objects.filter(email=email).delete()  # one live code per address
            EmailCode.objects.create(
                user=user,
                email=email,
                code_hash=email_code_digest(email=email, code=code),
                created_at=now,
                expires_at=now + timedelta(seconds=ttl),
            )
            context: dict[str, object] = {
                "code": email_code_shown(code),
                # The address, never the code: opening the link (mail scanners do) spends nothing.
                "link": link_with(settings.FRONTEND_SIGNIN_CODE_URL, email=email),
                "ttl": duration_text(ttl),
            }
            email_message_send(email_message_build(kind="email_code", to=email, context=context))
        logger.info("Sent a sign-in code to user %s", user.pk)

    delivery_attempt(email_code_send, attempt=attempt, kwargs={"email": email}, send=send)


@task
def new_device_notice_send(
    *, user_id: str, to: str, device: str, network: str, at: str, attempt: int = 1
) -> None:
    """ "New sign-in" to `to` (the address at sign-in): the device label, the network and the time
    (ISO 8601, UTC) of a sign-in unlike the user's recent ones (accounts.flows.new_device)."""
    kwargs = {"user_id": user_id, "to": to, "device": device, "network": network, "at": at}

    def send() -> None:
        if not User.objects.filter(pk=uuid.UUID(user_id)).exists():
            return
        when = datetime.fromisoformat(at).strftime("%Y-%m-%d %H:%M UTC")
        context: dict[str, object] = {
            "device": device,
            "network": network,
            "time": when,
            "link": settings.FRONTEND_SESSIONS_URL,
        }
        email_message_send(email_message_build(kind="new_device", to=to, context=context))
        logger.info("Sent a new sign-in notice to user %s", user_id)

    delivery_attempt(new_device_notice_send, attempt=attempt, kwargs=kwargs, send=send)


NOTICES = (
    "email_change_notice",
    "email_changed_notice",
    "password_changed",
    "password_reset_notice",
)


@task
def security_notice_send(*, user_id: str, kind: str, to: str, attempt: int = 1) -> None:
    """A notice without a link (password changed or reset, address change asked for or made) to
    `to`: the address the event concerned, fixed by whoever enqueued it when it happened. Never
    the user's address at send time, which may have changed since (a notice of a reset queued
    just before an address change belongs to the address that was reset)."""
    if kind not in NOTICES:
        raise ValueError(f"no such notice: {kind}")
    if not to:
        raise ValueError(f"notice {kind} without a recipient")

    def send() -> None:
        user = User.objects.filter(pk=uuid.UUID(user_id)).first()
        if user is None:
            return
        email_message_send(email_message_build(kind=kind, to=to, context={}))
        logger.info("Sent %s notice to user %s", kind, user.pk)

    delivery_attempt(
        security_notice_send,
        attempt=attempt,
        kwargs={"user_id": user_id, "kind": kind, "to": to},
        send=send,
    )


def security_notice_enqueue(*, user_id: uuid.UUID, kind: str, to: str) -> None:
    """Enqueue a notice with the caller's transaction: sent if the change commits, never
    otherwise (toolkit.tasks.enqueue_with_transaction)."""
    enqueue_with_transaction(security_notice_send, user_id=str(user_id), kind=kind, to=to)
