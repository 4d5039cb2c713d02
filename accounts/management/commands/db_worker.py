"""manage.py db_worker: django-tasks-db's worker, kept running while the database is away.

django-tasks-db's own worker exits on the first database error outside a task: PostgreSQL
restarting or failing over, or PgBouncer in front of it restarting, ended the worker, and the
queue waited for whoever restarts it. This one logs the outage, drops the broken connection and
looks for tasks again a second later, as the API's connection pool does. A task the database
went away under (it failed with a database error, or its outcome could not be recorded) is put
back in the queue once the database answers: tasks run at least once, as after
`manage.py requeue_stuck_tasks`, without waiting for it. Its options are
django-tasks-db's (`manage.py db_worker --help`). It replaces that command because `accounts`
comes before `django_tasks_db` in INSTALLED_APPS.
"""

import logging
import time
from datetime import timedelta
from typing import Any

from django.db import InterfaceError, OperationalError, connections
from django.utils import timezone
from django_tasks_db.management.commands import db_worker as upstream
from django_tasks_db.models import DBTaskResult

logger = logging.getLogger("accounts.tasks")
# Seconds between two looks at a database that was not reachable.
RETRY_DELAY = 1.0
DATABASE_ERRORS = ("django.db.utils.OperationalError", "django.db.utils.InterfaceError")


UpstreamWorker = upstream.Worker


class OutageTolerantWorker(UpstreamWorker):
    # The task being run, until its outcome is recorded.
    task_in_hand: Any = None

    def run_task(self, db_task_result: DBTaskResult[Any, Any]) -> None:
        self.task_in_hand = db_task_result.pk
        super().run_task(db_task_result)  # raises only when the outcome could not be recorded
        if db_task_result.exception_class_path in DATABASE_ERRORS:
            self.task_in_hand_requeue()  # it could not run: the database was away
        self.task_in_hand = None

    def run(self) -> None:
        unreachable_since = 0.0
        while self.running:
            if unreachable_since:
                if not self.database_answers():
                    time.sleep(RETRY_DELAY)
                    continue
                logger.info(
                    "Task worker: the database answers again after %.1f s",
                    time.monotonic() - unreachable_since,
                    extra={"event": "worker.database_reachable"},
                )
                unreachable_since = 0.0
                self.task_in_hand_requeue()
            try:
                super().run()
                return
            except (OperationalError, InterfaceError) as error:
                unreachable_since = time.monotonic()
                logger.warning(
                    "Task worker: the database is unreachable, retrying every %g s (%s)",
                    RETRY_DELAY,
                    " ".join(str(error).split())[:300],
                    extra={"event": "worker.database_unreachable"},
                )
                connections.close_all()
                self.startup_delay = False
                time.sleep(RETRY_DELAY)

    def task_in_hand_requeue(self) -> None:
        if self.task_in_hand is None:
            return
        requeued = DBTaskResult.objects.filter(
            pk=self.task_in_hand, status__in=["RUNNING", "FAILED"]
        ).update(
            status="READY",
            started_at=None,
            finished_at=None,
            exception_class_path="",
            traceback="",
            run_after=timezone.now() + timedelta(seconds=RETRY_DELAY),
        )
        if requeued:
            logger.warning(
                "Task worker: task id=%s met the database away; queued again",
                self.task_in_hand,
                extra={"event": "worker.task_requeued"},
            )
        self.task_in_hand = None

    @staticmethod
    def database_answers() -> bool:
        try:
            with connections["default"].cursor() as cursor:
                cursor.execute("SELECT 1")
        except (OperationalError, InterfaceError):
            connections.close_all()
            return False
        return True


class Command(upstream.Command):
    help = upstream.Command.help + ", which waits out database outages"

    def handle(self, *args: Any, **options: Any) -> None:
        # django-tasks-db's handle() builds its worker by this module-level name.
        upstream.Worker = OutageTolerantWorker  # type: ignore[misc]
        try:
            super().handle(*args, **options)
        finally:
            upstream.Worker = UpstreamWorker  # type: ignore[misc]
