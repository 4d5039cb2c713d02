"""manage.py purge: drop everything that has expired, from every app (accounts.maintenance)."""

from argparse import ArgumentTypeError
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from accounts.maintenance import PurgeRequest, purge_all
from toolkit.batches import BATCH_SIZE


def positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise ArgumentTypeError(f"must be 1 or more, not {number}")
    return number


class Command(BaseCommand):
    help = (
        "Delete what nobody can use any more: expired sessions and sessions revoked more than "
        "--keep-days ago (with their refresh tokens), used and expired email link tokens, "
        "throttle counters older than a day, expired and used second-factor challenges, "
        "security events older than AUDIT_RETENTION_DAYS, task results finished more than "
        "--task-results-days ago, and accounts past their deletion grace (everything personal "
        "about them). Safe to run at any time; schedule it daily. Rows go --batch-size at a "
        "time, each batch in a transaction of its own."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--keep-days",
            type=int,
            default=7,
            help="Keep revoked sessions this many days for the admin's eyes (default 7).",
        )
        parser.add_argument(
            "--task-results-days",
            type=int,
            default=14,
            help="Keep finished task results (sent and failed email) this many days (default 14).",
        )
        parser.add_argument(
            "--batch-size",
            type=positive,
            default=BATCH_SIZE,
            help=f"Rows deleted per transaction (default {BATCH_SIZE}): no lock is held longer "
            "than one batch takes.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        dropped = purge_all(
            PurgeRequest(
                now=now,
                revoked_before=now - timedelta(days=options["keep_days"]),
                tasks_finished_before=now - timedelta(days=options["task_results_days"]),
                batch_size=options["batch_size"],
            )
        )
        self.stdout.write(
            "Purged " + ", ".join(f"{count} {what}" for what, count in dropped.items()) + "."
        )
