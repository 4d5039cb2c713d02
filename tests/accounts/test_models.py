"""The custom user: email login, case-insensitive uniqueness in the database, the manager."""

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction

from accounts.models import User

pytestmark = pytest.mark.django_db(transaction=True)


def test_create_user_lowercases_the_email_and_hashes_the_password():
    user = User.objects.create_user("Mixed.Case@Example.COM", "a-fine-password")
    assert user.email == "mixed.case@example.com"
    assert user.check_password("a-fine-password")
    assert not user.is_staff and user.is_active


async def test_acreate_user_hashes_on_the_hasher_pool():
    user = await User.objects.acreate_user("Async@Example.com", "a-fine-password")
    assert user.email == "async@example.com"
    assert await user.acheck_password("a-fine-password")


def test_create_superuser_sets_staff_and_superuser():
    user = User.objects.create_superuser("root@example.com", "a-fine-password")
    assert user.is_staff and user.is_superuser


def test_database_refuses_the_same_email_in_another_case_even_bypassing_the_manager():
    User.objects.create_user("dup@example.com", "a-fine-password")
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(email="DUP@example.com")


def test_createsuperuser_works_non_interactively(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "an-admin-passphrase")
    call_command("createsuperuser", "--noinput", "--email", "Admin@Example.com", verbosity=0)
    user = User.objects.get(email="admin@example.com")
    assert user.is_superuser and user.check_password("an-admin-passphrase")


def test_get_by_natural_key_ignores_letter_case():
    User.objects.create_user("natural@example.com", "a-fine-password")
    assert User.objects.get_by_natural_key("NATURAL@example.com").email == "natural@example.com"


def test_ending_pending_links_marks_only_the_unused_ones_of_that_user():
    from datetime import timedelta

    from django.utils import timezone

    from accounts.models import EmailToken

    owner = User.objects.create_user("links.owner@example.com", "a passphrase of some length")
    other = User.objects.create_user("links.other@example.com", "a passphrase of some length")
    then = timezone.now() - timedelta(minutes=5)
    later = then + timedelta(days=1)
    for user, token_hash, used_at in (
        (owner, "a" * 64, None),
        (owner, "b" * 64, then),
        (other, "c" * 64, None),
    ):
        EmailToken.objects.create(
            user=user,
            purpose="verify_email",
            token_hash=token_hash,
            email=user.email,
            expires_at=later,
            used_at=used_at,
        )
    now = timezone.now()
    assert EmailToken.objects.for_user(owner).pending().end(now) == 1
    used = dict(EmailToken.objects.values_list("token_hash", "used_at"))
    assert used == {"a" * 64: now, "b" * 64: then, "c" * 64: None}


async def test_a_deactivated_users_sessions_stay_dead_once_reactivated(api):
    from asgiref.sync import sync_to_async

    from tests.accounts.helpers import bearer, signup

    session = await signup(api, "reactivated@example.com")
    user = await User.objects.aget(email="reactivated@example.com")
    user.is_active = False
    await sync_to_async(user.save)()
    user.is_active = True
    await sync_to_async(user.save)()
    response = await api.get("/api/auth/me", headers=bearer(session))
    assert response.status_code == 401
    refreshed = await api.post(
        "/api/auth/refresh", json={"refresh_token": session["refresh_token"]}
    )
    assert refreshed.status_code == 401
