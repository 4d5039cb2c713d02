"""Enqueueing Django tasks as part of a database transaction, and retrying them with back-off."""

from datetime import timedelta
from typing import Any

from django.db import transaction
from django.tasks import Task
from django.utils import timezone


def backend_keeps_tasks_in_database(task: Task[..., Any]) -> bool:
    from django_tasks_db import DatabaseBackend

    return isinstance(task.get_backend(), DatabaseBackend)


def enqueue_with_transaction(task: Task[..., Any], **kwargs: Any) -> None:
    """Enqueue `task` as part of the current transaction.

    With the database backend the task row is inserted right here, inside the transaction: it
    commits with the change it belongs to, or vanishes with it (an enqueue deferred to
    `on_commit` would be lost if the process died between the commit and the enqueue). Any
    other backend (the immediate one runs the task at once) is called after the commit, so the
    task sees the committed change and never runs for a rolled-back one.
    """
    if backend_keeps_tasks_in_database(task):
        task.enqueue(**kwargs)
    else:
        transaction.on_commit(lambda: task.enqueue(**kwargs))


def retry_delay(attempt: int, *, first_delay: float, longest_delay: float) -> float:
    """Seconds before attempt `attempt + 1`: `first_delay`, doubling, at most `longest_delay`."""
    return float(min(longest_delay, first_delay * 2 ** (attempt - 1)))


def task_retry_later(
    task: Task[..., Any], *, attempt: int, attempts: int, delay: float, kwargs: dict[str, Any]
) -> bool:
    """Enqueue attempt `attempt + 1` of `task` to run `delay` seconds from now, with the same
    keyword arguments. False (nothing enqueued) when `attempts` are spent or the backend cannot
    defer a task (the immediate backend)."""
    if attempt >= attempts or not task.get_backend().supports_defer:
        return False
    run_after = timezone.now() + timedelta(seconds=delay)
    task.using(run_after=run_after).enqueue(**{**kwargs, "attempt": attempt + 1})
    return True
