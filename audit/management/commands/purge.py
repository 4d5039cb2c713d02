"""manage.py purge: purge_sessions' work, and events older than AUDIT_RETENTION_DAYS."""

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from accounts.management.commands import purge_sessions
from audit.services import auth_events_purge


class Command(purge_sessions.Command):
    help = (
        purge_sessions.Command.help.removesuffix(" Safe to run at any time.")
        + " And security events older than AUDIT_RETENTION_DAYS. Safe to run at any time."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        super().handle(*args, **options)
        older_than = timezone.now() - timedelta(days=settings.AUDIT_RETENTION_DAYS)
        events = auth_events_purge(older_than=older_than)
        self.stdout.write(
            f"Purged {events} event(s) older than {settings.AUDIT_RETENTION_DAYS} days."
        )
