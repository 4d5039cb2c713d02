"""A user's passkeys: registering one (options, then the browser's answer), renaming and
removing it, and staff removing one from the admin."""

import secrets
import uuid
from datetime import datetime
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.client import ClientInfo
from accounts.credential_proofs import CredentialOptions
from accounts.devices import device_label
from accounts.models import User
from accounts.notices import account_change_notice_enqueue
from accounts.signals import EventType
from accounts.signin_methods import signin_methods_count
from passkeys.ceremony import (
    CeremonyFailed,
    b64url_decode,
    b64url_encode,
    registration_options,
    registration_verify,
)
from passkeys.exceptions import (
    InvalidPasskeyRegistration,
    LastWayIn,
    PasskeyLimitReached,
    PasskeyNotFound,
)
from passkeys.flows.challenges import challenge_new, challenge_take, challenge_token
from passkeys.models import Passkey, PasskeyUser, Purpose
from passkeys.selectors import passkeys_of_user

NAME_MAX_LENGTH = 64
# The message mailed when a passkey is added (accounts.notices; registered in passkeys.apps).
PASSKEY_ADDED_NOTICE = "passkey_added"


async def passkey_registration_options(*, user: User) -> CredentialOptions:
    return await sync_to_async(_registration_options)(user=user, now=timezone.now())


def _registration_options(*, user: User, now: datetime) -> CredentialOptions:
    with transaction.atomic():
        passkeys = passkeys_of_user(user_id=user.pk)
        if len(passkeys) >= settings.WEBAUTHN_MAX_PASSKEYS:
            raise PasskeyLimitReached
        handle = user_handle_ensure(user_id=user.pk)
        challenge = challenge_new(purpose=Purpose.REGISTER, user_id=user.pk, now=now)
    options = registration_options(
        challenge=challenge, user_handle=handle, user_name=user.email, exclude=passkeys
    )
    return CredentialOptions(challenge_token=challenge_token(challenge), options=options)


def user_handle_ensure(*, user_id: uuid.UUID) -> str:
    """The user's WebAuthn handle, made on their first registration. Call in a transaction."""
    handle, _ = PasskeyUser.objects.get_or_create(
        user_id=user_id, defaults={"handle": b64url_encode(secrets.token_bytes(32))}
    )
    return handle.handle


async def passkey_register(
    *,
    user: User,
    token: str,
    credential: dict[str, Any],
    name: str | None,
    client: ClientInfo,
) -> Passkey:
    """Verify the browser's answer to this user's registration options and keep the passkey.
    InvalidPasskeyRegistration (400) for a dead or foreign challenge or a credential that does
    not verify (or is registered already); PasskeyLimitReached (409) beyond the limit."""

    def register() -> Passkey:
        now = timezone.now()
        try:
            challenge = b64url_decode(token)
        except CeremonyFailed:
            raise InvalidPasskeyRegistration from None
        if not challenge_take(
            purpose=Purpose.REGISTER, user_id=user.pk, challenge=challenge, now=now
        ):
            raise InvalidPasskeyRegistration
        try:
            registered = registration_verify(credential=credential, challenge=challenge)
        except CeremonyFailed:
            raise InvalidPasskeyRegistration from None
        label = (name or "").strip()[:NAME_MAX_LENGTH] or device_label(client.user_agent)
        try:
            with transaction.atomic():
                User.objects.select_for_update().filter(pk=user.pk).first()  # one at a time
                if Passkey.objects.filter(user_id=user.pk).count() >= (
                    settings.WEBAUTHN_MAX_PASSKEYS
                ):
                    raise PasskeyLimitReached
                passkey = Passkey.objects.create(
                    user_id=user.pk,
                    name=label,
                    credential_id=registered.credential_id,
                    public_key=registered.public_key,
                    sign_count=registered.sign_count,
                    transports=registered.transports,
                    aaguid=registered.aaguid,
                    backup_eligible=registered.backup_eligible,
                    backed_up=registered.backed_up,
                    created_at=now,
                )
                client.event(
                    EventType.PASSKEY_ADDED, user_id=user.pk, detail={"passkey_id": passkey.pk}
                )
                account_change_notice_enqueue(
                    user=user, kind=PASSKEY_ADDED_NOTICE, detail=passkey.name, now=now
                )
        except IntegrityError:  # this credential is registered already (to anyone)
            raise InvalidPasskeyRegistration from None
        return passkey

    return await sync_to_async(register)()


async def passkey_rename(*, user: User, passkey_id: int, name: str) -> Passkey:
    passkey = await Passkey.objects.filter(pk=passkey_id, user_id=user.pk).afirst()
    if passkey is None:
        raise PasskeyNotFound
    passkey.name = name.strip()[:NAME_MAX_LENGTH] or passkey.name
    await passkey.asave(update_fields=["name"])
    return passkey


async def passkey_remove(*, user: User, passkey_id: int, client: ClientInfo) -> None:
    def remove() -> None:
        with transaction.atomic():
            locked = User.objects.select_for_update().get(pk=user.pk)  # removals one at a time
            if not Passkey.objects.filter(pk=passkey_id, user_id=user.pk).exists():
                raise PasskeyNotFound
            if signin_methods_count(locked) <= 1:
                raise LastWayIn
            Passkey.objects.filter(pk=passkey_id, user_id=user.pk).delete()
            client.event(
                EventType.PASSKEY_REMOVED, user_id=user.pk, detail={"passkey_id": passkey_id}
            )

    await sync_to_async(remove)()


def passkey_remove_by_staff(*, passkey: Passkey, staff_id: object, client: ClientInfo) -> None:
    """The admin's removal: the passkey goes, and an `admin_action` event says who did it."""
    with transaction.atomic():
        Passkey.objects.filter(pk=passkey.pk).delete()
        client.event(
            EventType.ADMIN_ACTION,
            user_id=passkey.user_id,
            detail={
                "action": "remove_passkey",
                "passkey_id": passkey.pk,
                "staff_id": str(staff_id or ""),
            },
        )
