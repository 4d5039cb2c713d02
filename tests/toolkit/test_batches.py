"""Deleting in batches: everything the filter selects and nothing else, whatever the ties in the
key the batches walk, and never a row that changed after its batch was read."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from accounts.models import ThrottleCounter, User
from audit.models import AuthEvent
from toolkit.batches import batches_delete

pytestmark = pytest.mark.django_db(transaction=True)


def test_batches_walking_a_key_with_ties_delete_every_selected_row_and_no_other():
    user = User.objects.create(email="ties@example.com")
    old, recent = timezone.now() - timedelta(days=400), timezone.now()
    # Runs of equal times across every batch boundary: the key alone could not say where the
    # last batch stopped.
    AuthEvent.objects.bulk_create(
        [
            AuthEvent(type="signin", user=user, at=old + timedelta(seconds=n // 700))
            for n in range(2_500)
        ]
        + [AuthEvent(type="signin", user=user, at=recent) for _ in range(300)]
    )
    deleted, by_model = batches_delete(
        AuthEvent.objects.filter(at__lt=recent - timedelta(days=1)), batch_size=1_000, key="at"
    )
    assert deleted == 2_500
    assert by_model == {"audit.AuthEvent": 2_500}
    assert set(AuthEvent.objects.values_list("at", flat=True)) == {recent}


def test_a_row_changed_after_its_batch_was_read_is_left_alone():
    ThrottleCounter.objects.bulk_create(
        [ThrottleCounter(key=f"signin-ip:{n:040}", window_start=0, count=1) for n in range(10)]
    )
    hit: list[int] = []

    def a_sign_in_between_read_and_delete(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if sql.startswith('SELECT "accounts_throttlecounter"."key"') and not hit:
            # That client comes back: its counter starts a new window.
            hit.append(
                ThrottleCounter.objects.filter(key=f"signin-ip:{3:040}").update(window_start=10**9)
            )
        return result

    with connection.execute_wrapper(a_sign_in_between_read_and_delete):
        deleted, _ = batches_delete(
            ThrottleCounter.objects.filter(window_start__lt=100), batch_size=4
        )
    assert hit == [1]
    assert deleted == 9
    assert list(ThrottleCounter.objects.values_list("key", flat=True)) == [f"signin-ip:{3:040}"]
