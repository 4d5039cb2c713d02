"""Writes: dropping events past their retention."""

from datetime import datetime

from audit.models import AuthEvent


def auth_events_purge(*, older_than: datetime) -> int:
    deleted, _ = AuthEvent.objects.filter(at__lt=older_than).delete()
    return deleted
