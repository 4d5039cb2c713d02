"""Notices of a way in added to an account (accounts.notices): the apps register their message
kinds; an unknown kind is refused, and a user gone by send time gets nothing."""

import uuid

import pytest
from django.core import mail
from django.utils import timezone

from accounts.emails import email_kind_register
from accounts.notices import account_change_notice_send

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_app_cannot_take_one_of_accounts_own_message_kinds():
    with pytest.raises(ValueError, match="accounts' own"):
        email_kind_register(kind="new_device", folder="elsewhere/email/new_device")


def test_an_unregistered_notice_kind_is_refused():
    with pytest.raises(ValueError, match="no such notice"):
        account_change_notice_send.call(
            user_id=str(uuid.uuid4()), kind="verify_email", to="x@example.com", detail="", at=""
        )


def test_a_notice_for_a_user_gone_by_send_time_sends_nothing():
    account_change_notice_send.call(
        user_id=str(uuid.uuid4()),
        kind="passkey_added",
        to="gone@example.com",
        detail="Laptop",
        at=timezone.now().isoformat(),
    )
    assert mail.outbox == []
