"""Writes: dropping events past their retention; an account's events in its export and erasure."""

from datetime import datetime, timedelta

from django.conf import settings

from accounts.maintenance import PurgeRequest
from accounts.models import User
from accounts.personal_data import Erasure
from audit import selectors
from audit.models import AuthEvent
from toolkit.batches import BATCH_SIZE, batches_delete


def auth_events_purge(*, older_than: datetime, batch_size: int = BATCH_SIZE) -> int:
    """Oldest first, in the order of the index on `at` (authevent_at)."""
    deleted, _ = batches_delete(
        AuthEvent.objects.filter(at__lt=older_than), batch_size=batch_size, key="at"
    )
    return deleted


def auth_events_purge_expired(request: PurgeRequest) -> dict[str, int]:
    """manage.py purge's share: events older than AUDIT_RETENTION_DAYS."""
    older_than = request.now - timedelta(days=settings.AUDIT_RETENTION_DAYS)
    return {"event(s)": auth_events_purge(older_than=older_than, batch_size=request.batch_size)}


def auth_events_exported(user: User) -> dict[str, object]:
    """The export's share (accounts.personal_data): the user's events, newest first."""
    events = AuthEvent.objects.filter(user_id=user.pk).order_by("-at", "-id")
    return {
        "events": [
            {
                "type": event.type,
                "at": event.at,
                "ip": event.ip,
                "user_agent": event.user_agent,
                "session_id": event.session_id,
                "detail": event.detail,
            }
            for event in events
        ]
    }


def auth_events_erase(erasure: Erasure) -> dict[str, int]:
    """The erasure's share (accounts.personal_data). The user's own events go with the user's
    row (their foreign key cascades): only their addresses are handed on, for the throttle
    counters keyed by them. What the user did as staff stays on the other users' events, with
    the staff member's id taken out."""
    user_id = str(erasure.user.pk)
    erasure.ips.update(
        ip
        for ip in AuthEvent.objects.filter(user_id=erasure.user.pk)
        .values_list("ip", flat=True)
        .distinct()
        if ip
    )
    as_staff = selectors.auth_events_naming_staff(staff_id=user_id).exclude(user_id=erasure.user.pk)
    scrubbed = 0
    for event in as_staff:
        event.detail["staff_id"] = None
        event.save(update_fields=["detail"])
        scrubbed += 1
    return {"event(s) of others naming them as staff": scrubbed}
