"""Reads: users and live sessions."""

import uuid
from datetime import datetime

from accounts.models import AuthSession, User


async def user_get_by_email(*, email: str) -> User | None:
    return await User.objects.filter(email=email).afirst()


async def user_email_exists(*, email: str) -> bool:
    return await User.objects.filter(email=email).aexists()


async def auth_session_get_live(
    *, session_id: uuid.UUID, user_id: uuid.UUID, now: datetime
) -> AuthSession | None:
    """The session an access token names, if it is unrevoked, unexpired and its user active."""
    return (
        await AuthSession.objects.select_related("user")
        .filter(
            pk=session_id,
            user_id=user_id,
            revoked_at__isnull=True,
            expires_at__gt=now,
            user__is_active=True,
        )
        .afirst()
    )
