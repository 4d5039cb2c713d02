"""revoke_sessions and purge."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from accounts.models import AuthSession, RefreshToken, ThrottleCounter
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
