"""A user's linked identities: removing one (never the last way in), their part of the account's
export and erasure, their removal when an unverified address is proven, and the purge of the
browser flow's expired state."""

import uuid
from datetime import datetime

from asgiref.sync import sync_to_async
from django.db import transaction

from accounts.client import ClientInfo
from accounts.maintenance import PurgeRequest
from accounts.models import User
from accounts.personal_data import Erasure
from accounts.signals import EventType
from accounts.signin_methods import signin_methods_count
from social.exceptions import IdentityNotFound, LastSigninMethod
from social.models import AuthorizationFlow, ExchangeCode, Identity, SpentIdToken
from toolkit.batches import batches_delete


async def identity_unlink(*, user_id: uuid.UUID, identity_id: int, client: ClientInfo) -> None:
    await sync_to_async(_unlink)(user_id=user_id, identity_id=identity_id, client=client)


def _unlink(*, user_id: uuid.UUID, identity_id: int, client: ClientInfo) -> None:
    with transaction.atomic():
        # The user's row, locked: two removals at once cannot each leave the other the last.
        user = User.objects.select_for_update().get(pk=user_id)
        identity = Identity.objects.filter(pk=identity_id, user_id=user.pk).first()
        if identity is None:
            raise IdentityNotFound
        if signin_methods_count(user) <= 1:
            raise LastSigninMethod
        identity.delete()
        client.event(
            EventType.IDENTITY_UNLINKED,
            user_id=user.pk,
            detail={"provider": identity.provider, "identity_id": identity_id},
        )


def identities_count(user: User) -> int:
    """accounts.signin_methods asks it: each linked identity is a way in."""
    return Identity.objects.filter(user_id=user.pk).count()


def social_purge_expired(request: PurgeRequest) -> dict[str, int]:
    now: datetime = request.now
    flows, _ = batches_delete(
        AuthorizationFlow.objects.filter(expires_at__lte=now), batch_size=request.batch_size
    )
    codes, _ = batches_delete(
        ExchangeCode.objects.filter(expires_at__lte=now), batch_size=request.batch_size
    )
    spent, _ = batches_delete(
        SpentIdToken.objects.filter(expires_at__lte=now), batch_size=request.batch_size
    )
    return {
        "provider flow(s)": flows,
        "provider exchange code(s)": codes,
        "spent ID token(s)": spent,
    }


def identities_exported(user: User) -> dict[str, object]:
    """The account export's `identities` (accounts.personal_data): no subject, no token."""
    return {
        "identities": [
            {
                "id": identity.pk,
                "provider": identity.provider,
                "email": identity.email,
                "created_at": identity.created_at,
                "last_used_at": identity.last_used_at,
            }
            for identity in Identity.objects.filter(user_id=user.pk).order_by("created_at")
        ]
    }


def identities_erase(erasure: Erasure) -> dict[str, int]:
    """An erased account's identities and half-done provider sign-ins."""
    return identities_of_user_delete(erasure.user)


def identities_of_user_delete(user: User) -> dict[str, int]:
    """The user's identities, with the half-done flows and exchange codes that would link one or
    sign in: on erasure, and when the owner of an unverified address proves it (accounts.
    unverified: any identity there was linked by someone who never did, or came from a provider
    that did not vouch for the address)."""
    identities, _ = Identity.objects.filter(user_id=user.pk).delete()
    AuthorizationFlow.objects.filter(user_id=user.pk).delete()
    ExchangeCode.objects.filter(user_id=user.pk).delete()
    return {"provider identity(ies)": identities}
