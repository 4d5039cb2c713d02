"""The compiled-once session lookup gives exactly what the ORM gives."""

import uuid
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone

from accounts.models import AuthSession
from accounts.selectors import session_with_user_lookup

pytestmark = pytest.mark.django_db(transaction=True)


def field_values(instance: object) -> dict[str, tuple[type, object]]:
    fields = type(instance)._meta.concrete_fields  # type: ignore[attr-defined]
    return {
        field.attname: (type(getattr(instance, field.attname)), getattr(instance, field.attname))
        for field in fields
    }


async def test_session_lookup_equals_the_orms_select_related_field_by_field(users):
    user = await users.create(is_staff=True)
    now = timezone.now()
    created = await AuthSession.objects.acreate(
        user=user,
        expires_at=now + timedelta(days=30),
        revoked_at=now,
        revoked_reason="signout",
        client_ip="2001:db8::1",
        user_agent="Mozilla/5.0 (lookup test)",
    )

    session = await sync_to_async(session_with_user_lookup.get)(created.pk)
    expected = await AuthSession.objects.select_related("user").aget(pk=created.pk)

    assert session is not None
    assert field_values(session) == field_values(expected)
    assert field_values(session.user) == field_values(expected.user)
    assert session._state.adding is False and session._state.db == "default"
    assert AuthSession.user.is_cached(session)  # no second query for session.user


async def test_session_lookup_of_an_unknown_id_is_none():
    assert await sync_to_async(session_with_user_lookup.get)(uuid.uuid4()) is None


async def test_session_lookup_is_one_query_per_call(users):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    user = await users.create()
    created = await AuthSession.objects.acreate(
        user=user, expires_at=timezone.now() + timedelta(days=1)
    )

    def two_lookups() -> list[str]:
        with CaptureQueriesContext(connection) as queries:
            for _ in range(2):
                session = session_with_user_lookup.get(created.pk)
                assert session is not None
                assert session.user.email == user.email
        return [query["sql"] for query in queries.captured_queries]

    statements = await sync_to_async(two_lookups)()
    assert len(statements) == 2
    assert statements[0] == statements[1]
