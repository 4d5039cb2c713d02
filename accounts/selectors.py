"""Reads: users and live sessions."""

import uuid
import weakref
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from asgiref.sync import sync_to_async
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper

from accounts.models import AuthSession, User


async def user_get_by_email(*, email: str) -> User | None:
    return await User.objects.filter(email=email).afirst()


async def user_email_exists(*, email: str) -> bool:
    return await User.objects.filter(email=email).aexists()


async def auth_session_get_live(
    *, session_id: uuid.UUID, user_id: uuid.UUID, now: datetime
) -> AuthSession | None:
    """The session an access token names, if it is unrevoked, unexpired and its user active.

    Looked up by primary key alone and judged here, so that the query stays one that can be
    compiled once (see `auth_session_with_user_sync`), and the rules read plainly.
    """
    session = await sync_to_async(auth_session_with_user_sync)(session_id=session_id)
    if session is None:
        return None
    if session.user_id != user_id or not session.is_live_at(now) or not session.user.is_active:
        return None
    return session


@dataclass(frozen=True)
class CompiledQuery:
    sql: str
    converters: list[tuple[int, list[Any], Any]]  # (column, converters, expression)


SESSION_FIELDS = [field.attname for field in AuthSession._meta.concrete_fields]
USER_FIELDS = [field.attname for field in User._meta.concrete_fields]
# One per database connection object (each thread has its own): compiled on first use.
compiled_session_lookups: "weakref.WeakKeyDictionary[BaseDatabaseWrapper, CompiledQuery]" = (
    weakref.WeakKeyDictionary()
)


def session_lookup_compiled(connection: BaseDatabaseWrapper) -> CompiledQuery:
    """`AuthSession.objects.select_related("user").filter(pk=...)` as Django compiles it."""
    compiled = compiled_session_lookups.get(connection)
    if compiled is None:
        lookup = AuthSession.objects.select_related("user").filter(pk=uuid.UUID(int=0))
        query = lookup.order_by().query  # by primary key: no ORDER BY, as .get() does
        compiler = query.get_compiler(connection=connection)
        sql, _ = compiler.as_sql()
        columns = [expression for expression, _, _ in compiler.select]
        converters = compiler.get_converters(columns)
        compiled = CompiledQuery(
            sql=sql,
            converters=[(index, *pair) for index, pair in converters.items()],
        )
        compiled_session_lookups[connection] = compiled
    return compiled


def auth_session_with_user_sync(*, session_id: uuid.UUID) -> AuthSession | None:
    """The session and its user, in one query whose SQL is compiled once per connection.

    This runs on every authenticated request. Django compiles a queryset's SQL on every
    evaluation, and for this join that took longer than the query itself (about 200 us of the
    500 us a `select_related(...).get()` took here); the SQL never changes, so it is compiled
    once and run like Django runs it: same SQL, same converters, models built with `from_db`
    and the user put in the session's relation cache, as `select_related` does.
    tests/accounts/test_selectors.py pins that the result equals the ORM's, field by field.
    """
    connection = connections[DEFAULT_DB_ALIAS]
    compiled = session_lookup_compiled(connection)
    parameter = AuthSession._meta.pk.get_db_prep_value(session_id, connection)
    with connection.cursor() as cursor:
        cursor.execute(compiled.sql, [parameter])
        row = cursor.fetchone()
    if row is None:
        return None
    values = list(row)
    for index, converters, expression in compiled.converters:
        for converter in converters:
            values[index] = converter(values[index], expression, connection)
    split = len(SESSION_FIELDS)
    session = AuthSession.from_db(DEFAULT_DB_ALIAS, SESSION_FIELDS, values[:split])
    user = User.from_db(DEFAULT_DB_ALIAS, USER_FIELDS, values[split:])
    AuthSession.user.field.set_cached_value(session, user)
    return session
