"""Sign-up: a new account, its first verification message, and its first session."""

import logging

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts import selectors, tasks
from accounts.client import ClientInfo
from accounts.exceptions import EmailAlreadyRegistered
from accounts.flows.issue import IssuedSession, auth_session_issue
from accounts.flows.password import password_validate
from accounts.hashing import hasher_capacity_ensure, password_hash
from accounts.managers import UserManager
from accounts.models import User
from accounts.signals import EventType
from accounts.throttles import throttle_hit
from toolkit.tasks import enqueue_with_transaction

logger = logging.getLogger("accounts")


async def user_signup(*, email: str, password: str, client: ClientInfo) -> IssuedSession:
    email = UserManager.normalize_email(email)
    await throttle_hit("signup-ip", client.ip, settings.RATE_LIMIT_SIGNUP)
    await password_validate(password, email=email)
    if await selectors.user_email_exists(email=email):
        raise EmailAlreadyRegistered  # answered without hashing, so never shed
    hasher_capacity_ensure()
    encoded = await password_hash(password)
    issued = await sync_to_async(_user_create)(email=email, encoded_password=encoded, client=client)
    logger.info(
        "User signed up: %s",
        issued.user.pk,
        extra={"event": "user.signed_up", "user_id": str(issued.user.pk)},
    )
    return issued


def _user_create(*, email: str, encoded_password: str, client: ClientInfo) -> IssuedSession:
    now = timezone.now()
    try:
        with transaction.atomic():
            user = User.objects.create(email=email, password=encoded_password, created_at=now)
            # The first verification message: enqueued with the account, or not at all.
            enqueue_with_transaction(tasks.email_verification_send, user_id=str(user.pk))
            issued = auth_session_issue(user=user, client=client, now=now)
            client.event(EventType.SIGNUP, user_id=user.pk, session_id=issued.session.pk)
            return issued
    except IntegrityError:
        # The unique index on lower(email) decided a race between two sign-ups.
        raise EmailAlreadyRegistered from None
