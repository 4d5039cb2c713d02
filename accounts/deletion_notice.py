"""The message to an account scheduled for deletion, with its restore link: a task of the queue,
as those of accounts.tasks (whose rules it follows: the token is made here, with the send)."""

import logging
import uuid

from django.conf import settings
from django.db import transaction
from django.tasks import task
from django.utils import timezone

from accounts.emails import email_message_build, email_message_send
from accounts.models import EmailToken, EmailTokenPurpose, User
from accounts.tasks import delivery_attempt
from accounts.tokens import email_token_new
from toolkit.links import link_with_token
from toolkit.tokens import token_digest

logger = logging.getLogger("accounts.tasks")


@task
def account_deletion_notice_send(*, user_id: str, attempt: int = 1) -> None:
    """The restore link, working until the account's `delete_after`, to its address; nothing
    once the account was restored or erased. The user's row stays locked until the message is
    sent, so a purge waits for it (and then erases the new token with the rest)."""

    def send() -> None:
        now = timezone.now()
        with transaction.atomic():
            user = (
                User.objects.select_for_update()
                .filter(pk=uuid.UUID(user_id), is_active=False, delete_after__gt=now)
                .first()
            )
            if user is None or user.delete_after is None:
                return
            purpose = EmailTokenPurpose.RESTORE_ACCOUNT
            EmailToken.objects.filter(user=user, purpose=purpose, used_at__isnull=True).delete()
            token = email_token_new()
            EmailToken.objects.create(
                user=user,
                purpose=purpose,
                token_hash=token_digest(token),
                email=user.email,
                created_at=now,
                expires_at=user.delete_after,
            )
            context: dict[str, object] = {
                "link": link_with_token(settings.FRONTEND_RESTORE_ACCOUNT_URL, token),
                "delete_after": f"{user.delete_after:%Y-%m-%d %H:%M} UTC",
            }
            email_message_send(
                email_message_build(kind="account_deletion", to=user.email, context=context)
            )
        logger.info("Sent the deletion notice to user %s", user_id)

    delivery_attempt(
        account_deletion_notice_send, attempt=attempt, kwargs={"user_id": user_id}, send=send
    )
