"""A primary-key lookup with one `select_related` join, compiled once per database connection.

Django compiles a queryset's SQL on every evaluation; for the lookup every authenticated
request makes (a session and its user) that took longer than the query itself (about 200 us
of the 500 us a `select_related(...).get()` took here). The SQL never changes, so it is
compiled once per connection and run as Django runs it: the same SQL, the same converters,
models built with `from_db`, the related object put in the relation cache as `select_related`
does (mirroring `ModelIterable.__iter__` and `RelatedPopulator.populate`).
tests/fastpath/test_lookups.py pins that the result equals the ORM's, field by field.
"""

import weakref
from dataclasses import dataclass
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Model


@dataclass(frozen=True)
class CompiledQuery:
    sql: str
    converters: list[tuple[int, list[Any], Any]]  # (column, converters, expression)


class CompiledPkLookup[M: Model]:
    """`model.objects.select_related(related).filter(pk=...).first()`, compiled once per
    connection object (each thread has its own, so no compiled state is shared across
    threads), from the model at run time, so new fields stay in sync."""

    def __init__(self, model: type[M], related: str) -> None:
        self.model = model
        self.related_field = model._meta.get_field(related)
        self.related_model: type[Model] = self.related_field.related_model  # type: ignore[assignment]
        self.fields = [field.attname for field in model._meta.concrete_fields]
        self.related_fields = [field.attname for field in self.related_model._meta.concrete_fields]
        self.compiled: weakref.WeakKeyDictionary[BaseDatabaseWrapper, CompiledQuery] = (
            weakref.WeakKeyDictionary()
        )

    def compile(self, connection: BaseDatabaseWrapper) -> CompiledQuery:
        compiled = self.compiled.get(connection)
        if compiled is None:
            manager = self.model._default_manager
            placeholder = self.model._meta.pk.get_default() or 0
            lookup = manager.select_related(self.related_field.name).filter(pk=placeholder)
            query = lookup.order_by().query  # by primary key: no ORDER BY, as .get() does
            compiler = query.get_compiler(connection=connection)
            sql, _ = compiler.as_sql()
            columns = [expression for expression, _, _ in compiler.select]
            converters = compiler.get_converters(columns)
            compiled = CompiledQuery(
                sql=sql, converters=[(index, *pair) for index, pair in converters.items()]
            )
            self.compiled[connection] = compiled
        return compiled

    def get(self, pk: Any) -> M | None:
        """The row and its related row, or None. Sync: call it on the request's thread."""
        connection = connections[DEFAULT_DB_ALIAS]
        compiled = self.compile(connection)
        parameter = self.model._meta.pk.get_db_prep_value(pk, connection)
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, [parameter])
            row = cursor.fetchone()
        if row is None:
            return None
        values = list(row)
        for index, converters, expression in compiled.converters:
            for converter in converters:
                values[index] = converter(values[index], expression, connection)
        split = len(self.fields)
        instance = self.model.from_db(DEFAULT_DB_ALIAS, self.fields, values[:split])
        related = self.related_model.from_db(DEFAULT_DB_ALIAS, self.related_fields, values[split:])
        self.related_field.set_cached_value(instance, related)  # type: ignore[union-attr]
        return instance
