"""manage.py purge: purge_sessions' work, and events older than AUDIT_RETENTION_DAYS."""

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from accounts.services import auth_sessions_purge
from audit.services import auth_events_purge


class Command(BaseCommand):
    help = (
        "Delete expired sessions, sessions revoked more than --keep-days ago, used and expired "
        "email link tokens, day-old throttle counters, and security events older than "
        "AUDIT_RETENTION_DAYS. Safe to run at any time."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--keep-days",
            type=int,
            default=7,
            help="Keep revoked sessions this many days for the admin's eyes (default 7).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        sessions, email_tokens, counters = auth_sessions_purge(
            now=now, revoked_before=now - timedelta(days=options["keep_days"])
        )
        events = auth_events_purge(older_than=now - timedelta(days=settings.AUDIT_RETENTION_DAYS))
        self.stdout.write(
            f"Purged {sessions} session(s), {email_tokens} email token(s), {counters} throttle "
            f"counter(s) and {events} event(s) older than {settings.AUDIT_RETENTION_DAYS} days."
        )
