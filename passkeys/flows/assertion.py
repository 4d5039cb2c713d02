"""Proving who you are with a passkey: passwordless sign-in, and the proofs other journeys ask
for through accounts.credential_proofs (a sign-in's second step, a re-authentication)."""

import logging
import uuid
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.client import ClientInfo
from accounts.credential_proofs import (
    PURPOSE_REAUTHENTICATE,
    PURPOSE_SECOND_FACTOR,
    CredentialOptions,
)
from accounts.flows.issue import IssuedSession, auth_session_issue_with_event, email_verified_ensure
from accounts.models import User
from accounts.signals import EventType
from accounts.throttles import throttle_hit
from passkeys.ceremony import (
    CeremonyFailed,
    assertion_verify,
    authentication_options,
    b64url_decode,
    challenge_of,
    credential_id_of,
    user_handle_of,
)
from passkeys.exceptions import InvalidPasskey
from passkeys.flows.challenges import challenge_new, challenge_take, challenge_token
from passkeys.models import Passkey, Purpose
from passkeys.selectors import passkey_exists_for_user, passkeys_of_user
from passkeys.selectors import user_handle_of as stored_user_handle_of

logger = logging.getLogger("passkeys")
METHOD = "passkey"  # how the sign-in or re-authentication was made, in its event
PROOF_PURPOSES = {
    PURPOSE_SECOND_FACTOR: Purpose.SECOND_FACTOR,
    PURPOSE_REAUTHENTICATE: Purpose.REAUTHENTICATE,
}


async def passkey_signin_options(*, client: ClientInfo) -> CredentialOptions:
    """Options for a discoverable passkey: no allowCredentials, no user yet."""
    await throttle_hit("passkey-options-ip", client.ip, settings.RATE_LIMIT_PASSKEY_OPTIONS)
    challenge = await sync_to_async(challenge_new)(
        purpose=Purpose.SIGNIN, user_id=None, now=timezone.now()
    )
    options = authentication_options(challenge=challenge, allow=[])
    return CredentialOptions(challenge_token=challenge_token(challenge), options=options)


async def passkey_signin(
    *, token: str, credential: dict[str, Any], client: ClientInfo
) -> IssuedSession:
    """A session for a passkey verified with user verification: something the user has and
    something they are or know, so no second factor is asked. InvalidPasskey (401) otherwise."""
    await throttle_hit("signin-ip", client.ip, settings.RATE_LIMIT_SIGNIN)

    def signin() -> IssuedSession:
        passkey = assertion_accept(
            credential=credential, purpose=Purpose.SIGNIN, user_id=None, token=token, client=client
        )
        user = passkey.user
        if not user.is_active:
            raise InvalidPasskey
        email_verified_ensure(user)
        with transaction.atomic():
            return auth_session_issue_with_event(
                user=user, client=client, now=timezone.now(), method=METHOD
            )

    return await sync_to_async(signin)()


def assertion_accept(
    *,
    credential: dict[str, Any],
    purpose: Purpose,
    user_id: uuid.UUID | None,
    token: str | None,
    client: ClientInfo,
) -> Passkey:
    """The passkey a browser's assertion proves, its counter and backup state updated: the
    challenge (from `token`, or else the one the browser signed) taken for `purpose` and
    `user_id`, the passkey known (and the user's, when `user_id` is given), the signature,
    origin, RP ID and user verification verified, the counter not gone backwards. InvalidPasskey
    otherwise; a counter gone backwards records `passkey_clone_suspected`. Call outside a
    transaction (the challenge is spent at once, whatever follows)."""
    now = timezone.now()
    try:
        credential_id = credential_id_of(credential)
        challenge = b64url_decode(token) if token is not None else challenge_of(credential)
        handle = user_handle_of(credential)
    except CeremonyFailed:
        raise InvalidPasskey from None
    if not challenge_take(purpose=purpose, user_id=user_id, challenge=challenge, now=now):
        raise InvalidPasskey
    passkey = Passkey.objects.select_related("user").filter(credential_id=credential_id).first()
    if passkey is None or (user_id is not None and passkey.user_id != user_id):
        raise InvalidPasskey
    if handle is not None and handle != stored_user_handle_of(user_id=passkey.user_id):
        raise InvalidPasskey
    try:
        asserted = assertion_verify(credential=credential, challenge=challenge, passkey=passkey)
    except CeremonyFailed as error:
        logger.info("Passkey refused: %s", error, extra={"event": "passkey.refused"})
        raise InvalidPasskey from None
    with transaction.atomic():
        locked = Passkey.objects.select_for_update().filter(pk=passkey.pk).first()
        if locked is None:  # removed meanwhile
            raise InvalidPasskey
        if locked.sign_count and asserted.sign_count and asserted.sign_count <= locked.sign_count:
            client.event(
                EventType.PASSKEY_CLONE_SUSPECTED,
                user_id=locked.user_id,
                detail={
                    "passkey_id": locked.pk,
                    "stored_count": locked.sign_count,
                    "presented_count": asserted.sign_count,
                },
            )
            cloned = True
        else:
            cloned = False
            locked.sign_count = asserted.sign_count
            locked.backed_up = asserted.backed_up
            locked.last_used_at = now
            locked.save(update_fields=["sign_count", "backed_up", "last_used_at"])
    if cloned:  # refused after the event is committed
        logger.warning("Passkey counter went backwards", extra={"event": "passkey.clone"})
        raise InvalidPasskey
    locked.user = passkey.user
    return locked


# --- Proofs for other journeys (registered in PasskeysConfig.ready) ---------------------------


def proof_methods(user: User) -> list[str]:
    return ["webauthn"] if passkey_exists_for_user(user_id=user.pk) else []


async def proof_options(user: User, purpose: str, client: ClientInfo) -> CredentialOptions:
    """Options for this user's passkeys, the challenge bound to them and to `purpose`."""
    await throttle_hit("passkey-options-ip", client.ip, settings.RATE_LIMIT_PASSKEY_OPTIONS)

    def options() -> CredentialOptions:
        challenge = challenge_new(
            purpose=PROOF_PURPOSES[purpose], user_id=user.pk, now=timezone.now()
        )
        passkeys = passkeys_of_user(user_id=user.pk)
        return CredentialOptions(
            challenge_token=challenge_token(challenge),
            options=authentication_options(challenge=challenge, allow=passkeys),
        )

    return await sync_to_async(options)()


async def proof_verify(
    user: User,
    purpose: str,
    credential: dict[str, Any],
    token: str | None,
    client: ClientInfo,
) -> str | None:
    def verify() -> str | None:
        try:
            assertion_accept(
                credential=credential,
                purpose=PROOF_PURPOSES[purpose],
                user_id=user.pk,
                token=token,
                client=client,
            )
        except InvalidPasskey:
            return None
        return METHOD

    return await sync_to_async(verify)()
