"""Staff see a user's passkeys and remove one (an admin action); the purge drops dead
challenges."""

from datetime import timedelta
from io import StringIO

import pytest
from asgiref.sync import sync_to_async
from django.core.management import call_command
from django.utils import timezone

from audit.models import AuthEvent
from passkeys.models import Passkey, PasskeyChallenge
from tests.accounts.helpers import verified_signup
from tests.accounts.test_admin import csrf_token, staff  # noqa: F401 (fixture)
from tests.passkeys.helpers import registered, signin_options
from tests.support.authenticator import SoftAuthenticator

pytestmark = pytest.mark.django_db(transaction=True)


async def test_staff_see_passkeys_and_remove_one_as_an_admin_action(api, staff):  # noqa: F811
    session = await verified_signup(api, "kept@example.com")
    authenticator = SoftAuthenticator(backed_up=True)
    passkey = await registered(api, session, authenticator)
    listing = await api.get("/admin/passkeys/passkey/")
    assert listing.status_code == 200
    assert "kept@example.com" in listing.text and passkey["name"] in listing.text
    stored = await Passkey.objects.aget()
    assert stored.credential_id not in listing.text
    response = await api.post(
        "/admin/passkeys/passkey/",
        data={
            "action": "delete_selected",
            "_selected_action": [passkey["id"]],
            "post": "yes",
            "csrfmiddlewaretoken": csrf_token(listing.text),
        },
    )
    assert response.status_code == 302
    assert not await Passkey.objects.aexists()
    event = await AuthEvent.objects.aget(type="admin_action")
    assert event.detail == {
        "action": "remove_passkey",
        "passkey_id": passkey["id"],
        "staff_id": str(staff.pk),
    }


async def test_purge_removes_used_and_expired_passkey_challenges(api):
    live = await signin_options(api)
    await signin_options(api)
    await signin_options(api)
    now = timezone.now()
    challenges = [c async for c in PasskeyChallenge.objects.order_by("id")]
    await PasskeyChallenge.objects.filter(pk=challenges[1].pk).aupdate(used_at=now)
    await PasskeyChallenge.objects.filter(pk=challenges[2].pk).aupdate(
        expires_at=now - timedelta(seconds=1)
    )
    output = StringIO()
    await sync_to_async(call_command)("purge", stdout=output)
    assert "2 passkey challenge(s)" in output.getvalue()
    assert [c.pk async for c in PasskeyChallenge.objects.all()] == [challenges[0].pk]
    assert live["challenge_token"]
