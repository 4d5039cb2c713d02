"""Passkeys in the account's own life: the export lists them (never a key, credential id or
handle), an erased account leaves none behind, a deleted account's passkey signs nobody in, and
the last way in cannot be removed."""

import pytest
from asgiref.sync import sync_to_async

from accounts.models import User
from passkeys.models import Passkey, PasskeyChallenge, PasskeyUser
from tests.accounts.flows.test_deletion import delete_account, grace_over, purge, rows_naming
from tests.accounts.flows.test_export import values
from tests.accounts.helpers import bearer, verified_signup
from tests.passkeys.helpers import AUTH, passkey_signin, register_options, registered
from tests.support.authenticator import SoftAuthenticator

pytestmark = pytest.mark.django_db(transaction=True)


async def test_the_export_lists_passkeys_without_keys_ids_or_handles(api):
    session = await verified_signup(api, "exported@example.com")
    passkey = await registered(api, session, SoftAuthenticator(backed_up=True))
    response = await api.get(f"{AUTH}/me/export", headers=bearer(session))
    assert response.status_code == 200
    document = response.json()
    assert [p["id"] for p in document["passkeys"]] == [passkey["id"]]
    assert set(document["passkeys"][0]) == set(passkey)
    stored = await Passkey.objects.aget()
    handle = await PasskeyUser.objects.aget()
    text = set(values(document))
    assert stored.credential_id not in text and handle.handle not in text


async def test_an_erased_account_leaves_no_passkey_handle_or_challenge(api):
    session = await verified_signup(api, "erased@example.com")
    authenticator = SoftAuthenticator()
    await registered(api, session, authenticator)
    await register_options(api, session)  # a pending challenge bound to the user
    await delete_account(api, session)
    assert (await passkey_signin(api, authenticator)).status_code == 401  # scheduled: inactive
    await grace_over("erased@example.com")
    await sync_to_async(purge)()
    assert not await Passkey.objects.aexists() and not await PasskeyUser.objects.aexists()
    assert not await PasskeyChallenge.objects.filter(user__isnull=False).aexists()
    found = await sync_to_async(rows_naming)(session["user"]["id"], "erased@example.com")
    assert found == []


async def test_the_last_way_in_cannot_be_removed(api):
    session = await verified_signup(api, "only@example.com")
    first = await registered(api, session, SoftAuthenticator())
    authenticator = SoftAuthenticator()
    second = await registered(api, session, authenticator)
    user = await User.objects.aget(email="only@example.com")
    user.set_unusable_password()
    await user.asave()
    signed_in = await passkey_signin(api, authenticator)  # the password change ended the session
    session = signed_in.json()
    removed = await api.delete(f"{AUTH}/passkeys/{first['id']}", headers=bearer(session))
    assert removed.status_code == 204
    last = await api.delete(f"{AUTH}/passkeys/{second['id']}", headers=bearer(session))
    assert last.status_code == 409
    assert last.json() == {"detail": "This is your only way to sign in"}
    assert await Passkey.objects.acount() == 1
