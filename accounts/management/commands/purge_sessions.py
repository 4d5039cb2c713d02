"""manage.py purge_sessions: delete sessions and email links nobody can use any more, and stale
throttle rows."""

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from accounts.services import auth_sessions_purge


class Command(BaseCommand):
    help = (
        "Delete expired sessions and sessions revoked more than --keep-days ago (with their "
        "refresh tokens), used and expired email link tokens, and throttle counters older "
        "than a day. Safe to run at any time."
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
        self.stdout.write(
            f"Purged {sessions} session(s), {email_tokens} email token(s) "
            f"and {counters} throttle counter(s)."
        )
