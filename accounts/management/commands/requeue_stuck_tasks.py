"""manage.py requeue_stuck_tasks: put back in the queue the tasks a dead worker left running."""

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone
from django_tasks_db.models import DBTaskResult, get_date_max


class Command(BaseCommand):
    help = (
        "A worker killed in the middle of a task (SIGKILL, out of memory, a lost machine) leaves "
        "it marked running for ever. Mark tasks running for longer than --older-than seconds "
        "ready again, so that a live worker runs them. Sending one message takes at most a few "
        "times EMAIL_TIMEOUT, so the default (10 minutes) never touches a task still in hand."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--older-than",
            type=int,
            default=600,
            help="Seconds a task must have been running to count as stuck (default 600).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        started_before = timezone.now() - timedelta(seconds=options["older_than"])
        count = (
            DBTaskResult.objects.running()
            .filter(started_at__lt=started_before)
            .update(status="READY", started_at=None, run_after=get_date_max())
        )
        self.stdout.write(f"Requeued {count} stuck task(s).")
