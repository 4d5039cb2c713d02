"""revoke_sessions and purge."""

from collections import Counter
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from accounts.models import AuthSession, RefreshToken, ThrottleCounter, User
from tests.accounts.helpers import bearer, signin, signup

pytestmark = pytest.mark.django_db(transaction=True)


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


async def test_revoke_sessions_signs_a_user_out_everywhere(api):
    from asgiref.sync import sync_to_async

    one = await signup(api, "everywhere@example.com")
    two = await signin(api, "everywhere@example.com")
    output = await sync_to_async(run)("revoke_sessions", "--email", "EVERYWHERE@example.com")
    assert output.strip() == "Revoked 2 session(s) of everywhere@example.com."
    for session in (one, two):
        assert (await api.get("/api/auth/me", headers=bearer(session))).status_code == 401


def test_revoke_sessions_for_an_unknown_email_fails_clearly():
    with pytest.raises(CommandError, match="No user with email"):
        run("revoke_sessions", "--email", "nobody@example.com")


async def test_purge_deletes_expired_and_long_revoked_sessions(api):
    from asgiref.sync import sync_to_async

    for n in range(4):
        await signup(api, f"purge{n}@example.com")
    now = timezone.now()
    sessions = [s async for s in AuthSession.objects.order_by("created_at")]
    await AuthSession.objects.filter(pk=sessions[0].pk).aupdate(expires_at=now - timedelta(1))
    await AuthSession.objects.filter(pk=sessions[1].pk).aupdate(revoked_at=now - timedelta(30))
    await AuthSession.objects.filter(pk=sessions[2].pk).aupdate(revoked_at=now)
    await ThrottleCounter.objects.acreate(key="old", window_start=0, count=3)
    output = await sync_to_async(run)("purge")
    assert output.startswith("Purged 2 session(s), 0 email token(s), 1 throttle counter(s), ")
    assert await AuthSession.objects.acount() == 2
    assert await RefreshToken.objects.acount() == 2


@pytest.mark.postgresql
def test_purge_deletes_in_batches_each_in_a_transaction_of_its_own():
    """12,000 expired sessions, each with a refresh token, go 1,000 per transaction: no lock
    held for the whole purge, no process holding every id."""
    user = User.objects.create(email="batched@example.com")
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO accounts_authsession (id, user_id, created_at, last_used_at, expires_at,"
            " revoked_reason, user_agent) SELECT gen_random_uuid(), %s, now() - interval '40 days',"
            " now() - interval '40 days', now() - interval '10 days', '', ''"
            " FROM generate_series(1, 12000)",
            [user.pk],
        )
        cursor.execute(
            "INSERT INTO accounts_refreshtoken (token_hash, session_id, created_at, expires_at)"
            " SELECT md5(id::text) || md5(id::text), id, created_at, expires_at"
            " FROM accounts_authsession"
        )
    sessions_deleted_by_transaction: Counter[str] = Counter()

    def watch(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if sql.startswith('DELETE FROM "accounts_authsession"'):
            deleted = context["cursor"].cursor.rowcount
            with connection.connection.cursor() as raw:
                transaction_id = raw.execute("SELECT pg_current_xact_id()::text").fetchone()[0]
            sessions_deleted_by_transaction[transaction_id] += deleted
        return result

    with connection.execute_wrapper(watch):
        output = run("purge", "--batch-size", "1000")
    assert output.startswith("Purged 12000 session(s), ")
    assert AuthSession.objects.count() == 0
    assert RefreshToken.objects.count() == 0
    assert sum(sessions_deleted_by_transaction.values()) == 12_000
    assert len(sessions_deleted_by_transaction) >= 12
    assert max(sessions_deleted_by_transaction.values()) <= 1_000


async def test_purge_leaves_a_dead_sessions_refresh_tokens_to_the_database(api):
    """A session's rotated refresh tokens (a chain of parents) go with it in the database's
    cascade: the purge never reads a refresh token into memory."""
    from asgiref.sync import sync_to_async
    from django.test.utils import CaptureQueriesContext

    session = await signup(api, "rotated@example.com")
    for _ in range(2):
        response = await api.post(
            "/api/auth/refresh", json={"refresh_token": session["refresh_token"]}
        )
        session = response.json()
    await signup(api, "alive@example.com")
    assert await RefreshToken.objects.acount() == 4
    await AuthSession.objects.filter(user__email="rotated@example.com").aupdate(
        expires_at=timezone.now() - timedelta(seconds=1)
    )

    def purge() -> list[str]:
        with CaptureQueriesContext(connection) as captured:
            run("purge")
        return [query["sql"] for query in captured.captured_queries]

    statements = await sync_to_async(purge)()
    assert [
        s async for s in RefreshToken.objects.values_list("session__user__email", flat=True)
    ] == ["alive@example.com"]
    assert not [sql for sql in statements if "accounts_refreshtoken" in sql]


def test_purge_batch_size_must_be_positive():
    with pytest.raises(CommandError, match="must be 1 or more"):
        run("purge", "--batch-size", "0")
