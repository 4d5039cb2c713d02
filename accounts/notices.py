"""Notices that an account gained a way in (a passkey added, a sign-in provider linked): the apps
that make the change enqueue one, with their own message kind (accounts.emails.
email_kind_register), and the worker mails it with the time and a link to the sessions page
(FRONTEND_SESSIONS_URL), where a session that should not be there can be ended."""

import logging
import uuid
from datetime import datetime

from django.conf import settings
from django.tasks import task

from accounts.emails import APP_KINDS, email_message_build, email_message_send
from accounts.models import User
from accounts.tasks import delivery_attempt
from toolkit.tasks import enqueue_with_transaction

logger = logging.getLogger("accounts.tasks")


@task
def account_change_notice_send(
    *, user_id: str, kind: str, to: str, detail: str, at: str, attempt: int = 1
) -> None:
    """Message `kind` to `to` (the address when the change was made): `detail` (the passkey's
    name, the provider's), the time (ISO 8601, UTC), the sessions page."""
    if kind not in APP_KINDS:
        raise ValueError(f"no such notice: {kind}")
    kwargs = {"user_id": user_id, "kind": kind, "to": to, "detail": detail, "at": at}

    def send() -> None:
        if not User.objects.filter(pk=uuid.UUID(user_id)).exists():
            return
        context: dict[str, object] = {
            "detail": detail,
            "time": datetime.fromisoformat(at).strftime("%Y-%m-%d %H:%M UTC"),
            "link": settings.FRONTEND_SESSIONS_URL,
        }
        email_message_send(email_message_build(kind=kind, to=to, context=context))
        logger.info("Sent %s notice to user %s", kind, user_id)

    delivery_attempt(account_change_notice_send, attempt=attempt, kwargs=kwargs, send=send)


def account_change_notice_enqueue(*, user: User, kind: str, detail: str, now: datetime) -> None:
    """Enqueue the notice with the change's transaction: sent if it commits, never otherwise."""
    enqueue_with_transaction(
        account_change_notice_send,
        user_id=str(user.pk),
        kind=kind,
        to=user.email,
        detail=detail,
        at=now.isoformat(),
    )
