"""Deleting many rows without holding locks for long: a bounded batch per statement, each batch in
a transaction of its own (`manage.py purge`)."""

from collections import Counter
from typing import Any

from django.db import transaction
from django.db.models import Model, Q, QuerySet

# Rows per batch: a few milliseconds to a few hundred of work per transaction at scale.
BATCH_SIZE = 5_000


def after(fields: list[str], last: tuple[Any, ...]) -> Q:
    """The rows that come after `last` in the order of `fields` (a key, then the primary key)."""
    if len(fields) == 1:
        return Q(pk__gt=last[0])
    key, value, pk = fields[0], last[0], last[1]
    # Written so that the key's index bounds the scan (key >= value); the OR only filters.
    return Q(**{f"{key}__gte": value}) & (Q(**{f"{key}__gt": value}) | Q(pk__gt=pk))


def batches_delete(
    queryset: "QuerySet[Any]", *, batch_size: int = BATCH_SIZE, key: str = "pk"
) -> tuple[int, dict[str, int]]:
    """Delete what `queryset` selects, `batch_size` rows at a time, each batch with what cascades
    from it in a transaction of its own; answers what QuerySet.delete answers (rows in all, and
    per model label).

    The rows are walked in the order of `key` (then the primary key), each batch starting after
    the last row of the one before: never from the start again, where the rows already deleted
    stay, dead, until vacuum. `key` should be a column the filter bounds and an index serves
    (never null among the rows selected); the primary key serves any filter, in one pass.
    A batch's DELETE applies the filter again, so a row that changed since it was read (a
    counter hit again) is left alone. Only `batch_size` keys are ever held in memory."""
    model: type[Model] = queryset.model
    fields = ["pk"] if key == "pk" else [key, "pk"]
    deleted: Counter[str] = Counter()
    last: tuple[Any, ...] | None = None
    while True:
        page = queryset.order_by(*fields)
        if last is not None:
            page = page.filter(after(fields, last))
        with transaction.atomic(using=queryset.db):
            rows = list(page.values_list(*fields)[:batch_size])
            if not rows:
                break
            _, by_model = queryset.filter(pk__in=[row[-1] for row in rows]).delete()
        deleted.update(by_model)
        if len(rows) < batch_size:
            break
        last = rows[-1]
    deleted.setdefault(model._meta.label, 0)
    return sum(deleted.values()), dict(deleted)
