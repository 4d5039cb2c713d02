"""`manage.py purge` drops the browser flow's expired state and spent ID tokens."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.maintenance import PurgeRequest, purge_all
from social.models import AuthorizationFlow, ExchangeCode, SpentIdToken

pytestmark = [pytest.mark.django_db]


def test_purge_removes_expired_flows_codes_and_spent_tokens(django_user_model):
    now = timezone.now()
    user = django_user_model.objects.create_user(email="purged@example.com")
    for expires_at, name in (
        (now - timedelta(seconds=1), "old"),
        (now + timedelta(minutes=5), "new"),
    ):
        AuthorizationFlow.objects.create(
            state_hash=f"{name}-state",
            binding_hash="b",
            provider="acme",
            process="signin",
            redirect_uri="http://localhost/cb",
            expires_at=expires_at,
        )
        ExchangeCode.objects.create(
            code_hash=f"{name}-code",
            binding_hash="b",
            user=user,
            provider="acme",
            expires_at=expires_at,
        )
        SpentIdToken.objects.create(digest=f"{name}-token", expires_at=expires_at)
    dropped = purge_all(PurgeRequest(now=now, revoked_before=now, tasks_finished_before=now))
    assert dropped["provider flow(s)"] == 1
    assert dropped["provider exchange code(s)"] == 1
    assert dropped["spent ID token(s)"] == 1
    assert AuthorizationFlow.objects.get().state_hash == "new-state"
