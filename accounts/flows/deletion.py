"""The account's own end: deletion asked for by its user (every session ends at once, the account
turns inactive, a restore link goes to the address), its restore within ACCOUNT_DELETION_GRACE_DAYS,
and the erasure of everything personal once the grace is over (`manage.py purge`), or at once with a
grace of 0. Staff can restore or erase a scheduled account from the admin.

Inactive is what every sign-in path (password, email code, refresh, links, the admin) refuses
already, with the answer it gives a wrong password or a dead token: a scheduled account needs no
check of its own anywhere. Its events are deleted with it (docs/operations.md says why)."""

import logging
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Q, QuerySet, TextField
from django.db.models.functions import Cast
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from accounts.client import ClientInfo
from accounts.deletion_notice import account_deletion_notice_send
from accounts.maintenance import PurgeRequest
from accounts.models import AuthSession, EmailToken, EmailTokenPurpose, RevokedReason, User
from accounts.personal_data import Erasure, erasers_run
from accounts.signals import EventType
from accounts.throttles import throttle_counters_forget
from toolkit.tasks import enqueue_with_transaction

logger = logging.getLogger("accounts")

# The throttle scopes (accounts.flows) whose identity is the address, the user's id, or the
# address and a client IP: an erased account leaves no counter keyed by them.
EMAIL_SCOPES = (
    "signin-failed-email",
    "password-reset-email",
    "verify-resend-email",
    "email-change-email",
    "email-code-email",
)
USER_SCOPES = ("password-change-user",)
EMAIL_IP_SCOPES = ("signin-failed-email-ip",)


async def user_deletion_request(*, session: AuthSession, client: ClientInfo) -> datetime:
    """Schedule the session's user for deletion; answers when it will be erased (now, with a
    grace of 0: erased in this request)."""
    return await sync_to_async(_user_deletion_schedule)(
        session=session, client=client, now=timezone.now()
    )


def _user_deletion_schedule(*, session: AuthSession, client: ClientInfo, now: datetime) -> datetime:
    """In one transaction: every session revoked, the account inactive until `delete_after`
    (User.save ends its links and pending challenges, as for any deactivation), the event, and
    the notice with its restore link enqueued."""
    grace = settings.ACCOUNT_DELETION_GRACE_DAYS
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=session.user_id)
        if grace == 0:
            # Nothing to restore, so no message: a queued one would keep the address.
            user_erase(user=user)
            logger.info("Account erased at its user's request: %s", session.user_id)
            return now
        user.auth_sessions.revoke(reason=RevokedReason.ACCOUNT_DELETION, now=now)
        user.is_active = False
        user.delete_after = now + timedelta(days=grace)
        user.save(update_fields=["is_active", "delete_after"])
        client.event(
            EventType.ACCOUNT_DELETION_REQUESTED,
            user_id=user.pk,
            session_id=session.pk,
            detail={"delete_after": user.delete_after.isoformat()},
        )
        enqueue_with_transaction(account_deletion_notice_send, user_id=str(user.pk))
    logger.info("Account scheduled for deletion: %s", user.pk)
    return user.delete_after


async def user_restore(*, token: str, client: ClientInfo) -> None:
    """Bring back an account scheduled for deletion with its restore link's token; its old
    sessions stay revoked (the user signs in again)."""
    await sync_to_async(_user_restore)(token=token, client=client)


def _user_restore(*, token: str, client: ClientInfo) -> None:
    with transaction.atomic():
        # Locks the token's row and its user's (a purge that got there first erased both).
        found = EmailToken.objects.consume(
            token=token, purpose=EmailTokenPurpose.RESTORE_ACCOUNT, now=timezone.now()
        )
        User.objects.filter(pk=found.user_id).update(is_active=True, delete_after=None)
        client.event(EventType.ACCOUNT_RESTORED, user_id=found.user_id)
    logger.info("Account restored: %s", found.user_id)


def user_erase(*, user: User) -> dict[str, int]:
    """Delete the user and everything personal about them; call inside a transaction, the
    user's row locked. Rows with a foreign key to the user (sessions and their refresh tokens,
    link tokens, sign-in codes, events, second factors, ...) go with it; other apps' erasers
    (accounts.personal_data) run first, then what names the user without a foreign key: task
    results (arguments, errors), the admin's log of changes to them, throttle counters."""
    erasure = Erasure(user=user)
    erasure.ips.update(
        ip for ip in AuthSession.objects.filter(user=user).values_list("client_ip", flat=True) if ip
    )
    erased = erasers_run(erasure)
    erased["task result(s)"] = task_results_naming(user).delete()[0]
    erased["admin log entry(ies)"] = LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(User), object_id=str(user.pk)
    ).delete()[0]
    erased["throttle counter(s)"] = throttle_counters_forget(throttle_identities(erasure))
    user.delete()
    return erased


def task_results_naming(user: User) -> "QuerySet[DBTaskResult[Any, Any]]":
    """Queued and finished tasks whose arguments, result or error name the user's id or
    address (their messages, whether sent, due or failed)."""
    text = {name: Cast(name, TextField()) for name in ("args_kwargs", "return_value")}
    names = Q()
    for value in (str(user.pk), user.email):
        names |= Q(args_text__contains=value) | Q(return_text__contains=value)
        names |= Q(traceback__contains=value)
    return DBTaskResult.objects.annotate(
        args_text=text["args_kwargs"], return_text=text["return_value"]
    ).filter(names)


def throttle_identities(erasure: Erasure) -> list[tuple[str, str]]:
    email, user_id = erasure.user.email, str(erasure.user.pk)
    pairs = [(scope, email) for scope in EMAIL_SCOPES]
    pairs += [(scope, user_id) for scope in USER_SCOPES]
    pairs += [(scope, f"{email} {ip}") for scope in EMAIL_IP_SCOPES for ip in erasure.ips]
    return pairs


def users_erase_due(request: PurgeRequest) -> dict[str, int]:
    """manage.py purge's share: each account past its grace, erased in a transaction of its own
    (one that was restored meanwhile is left alone); their ids read `request.batch_size` at a
    time."""
    due = User.objects.filter(is_active=False, delete_after__lte=request.now).order_by("pk")
    erased, page = 0, due
    while ids := list(page.values_list("pk", flat=True)[: request.batch_size]):
        erased += users_erase(user_ids=ids, now=request.now)
        page = due.filter(pk__gt=ids[-1])
    return {"erased account(s)": erased}


def users_erase(*, user_ids: Iterable[uuid.UUID], now: datetime | None = None) -> int:
    """Erase those of these users still scheduled for deletion (due by `now`, when given: else
    at once, the admin's "erase now"); answers how many."""
    erased = 0
    for user_id in user_ids:
        with transaction.atomic():
            scheduled = User.objects.select_for_update().filter(
                pk=user_id, is_active=False, delete_after__isnull=False
            )
            if now is not None:
                scheduled = scheduled.filter(delete_after__lte=now)
            user = scheduled.first()
            if user is None:
                continue
            user_erase(user=user)
            erased += 1
        logger.info("Account erased: %s", user_id)
    return erased


def users_restore(*, user_ids: Iterable[uuid.UUID], client: ClientInfo, staff_id: str) -> int:
    """Staff's restore (the admin): those of these users scheduled for deletion, active again,
    each with an `account_restored` event naming the staff member; answers how many."""
    restored = 0
    with transaction.atomic():
        scheduled = User.objects.select_for_update().filter(
            pk__in=list(user_ids), is_active=False, delete_after__isnull=False
        )
        for user in scheduled:
            User.objects.filter(pk=user.pk).update(is_active=True, delete_after=None)
            EmailToken.objects.for_user(user).pending().end(timezone.now())
            client.event(EventType.ACCOUNT_RESTORED, user_id=user.pk, detail={"staff_id": staff_id})
            restored += 1
    return restored
