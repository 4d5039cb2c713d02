"""Writes: dropping events past their retention."""

from datetime import datetime, timedelta

from django.conf import settings

from accounts.maintenance import PurgeRequest
from audit.models import AuthEvent


def auth_events_purge(*, older_than: datetime) -> int:
    deleted, _ = AuthEvent.objects.filter(at__lt=older_than).delete()
    return deleted


def auth_events_purge_expired(request: PurgeRequest) -> dict[str, int]:
    """manage.py purge's share: events older than AUDIT_RETENTION_DAYS."""
    older_than = request.now - timedelta(days=settings.AUDIT_RETENTION_DAYS)
    return {"event(s)": auth_events_purge(older_than=older_than)}
