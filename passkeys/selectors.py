"""Reads of passkeys."""

import uuid

from passkeys.models import Passkey, PasskeyUser


def passkeys_of_user(*, user_id: uuid.UUID) -> list[Passkey]:
    return list(Passkey.objects.filter(user_id=user_id).order_by("created_at", "pk"))


def passkey_exists_for_user(*, user_id: uuid.UUID) -> bool:
    return Passkey.objects.filter(user_id=user_id).exists()


async def passkeys_list(*, user_id: uuid.UUID) -> list[Passkey]:
    return [
        passkey
        async for passkey in Passkey.objects.filter(user_id=user_id).order_by("created_at", "pk")
    ]


def user_handle_of(*, user_id: uuid.UUID) -> str | None:
    return PasskeyUser.objects.filter(user_id=user_id).values_list("handle", flat=True).first()
