"""Reads: a user's linked identities."""

import uuid

from social.models import Identity


async def identities_of(*, user_id: uuid.UUID) -> list[Identity]:
    return [
        identity
        async for identity in Identity.objects.filter(user_id=user_id).order_by("created_at")
    ]
