"""manage.py db_worker waits out database outages: it survives them, and a task the database
went away under runs again instead of being recorded as failed (or left running for ever)."""

from io import StringIO

import pytest
from django.core.management import call_command, get_commands
from django.db import OperationalError
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from accounts import tasks
from accounts.management.commands import db_worker
from accounts.models import User

pytestmark = pytest.mark.django_db(transaction=True)
DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


def test_manage_py_db_worker_is_the_outage_tolerant_one():
    assert get_commands()["db_worker"] == "accounts"


def test_a_task_that_met_the_database_away_is_queued_again_not_failed(settings, monkeypatch):
    settings.TASKS = DATABASE_TASKS
    User.objects.create_user("unlucky@example.com", "a passphrase of some length")
    tasks.email_verification_send.enqueue(user_id=str(User.objects.get().pk))

    def database_away(user_id):
        raise OperationalError("consuming input failed: server closed the connection")

    monkeypatch.setattr(tasks, "active_user", database_away)
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", stdout=StringIO())
    task = DBTaskResult.objects.get()  # the same task, and no retry of the mail kind enqueued
    assert task.status == "READY"
    assert task.exception_class_path == ""
    assert task.run_after > timezone.now()


def test_the_worker_survives_a_database_error_outside_any_task(monkeypatch):
    """django-tasks-db's own worker exits on it; this one looks again a moment later."""
    monkeypatch.setattr(db_worker, "RETRY_DELAY", 0.01)
    worker = db_worker.OutageTolerantWorker(
        queue_names=["default"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="test",
        excluded_queue_names=[],
    )
    outages = iter([True, True])
    upstream_run = db_worker.UpstreamWorker.run

    def flaky_run(self):
        if next(outages, False):
            raise OperationalError("connection refused")
        return upstream_run(self)

    monkeypatch.setattr(db_worker.UpstreamWorker, "run", flaky_run)
    worker.run()  # returns once the batch is done, after two outages
    assert next(outages, "spent") == "spent"
