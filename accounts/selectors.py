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
    """The session an access token names, if it is unrevoked, unexpired and its user active.

    Looked up by primary key alone and judged here: on the hot path of every authenticated
    request, the simplest query compiles fastest, and the rules read plainly.
    """
    try:
        session = await AuthSession.objects.select_related("user").aget(pk=session_id)
    except AuthSession.DoesNotExist:
        return None
    if (
        session.user_id != user_id
        or session.revoked_at is not None
        or session.expires_at <= now
        or not session.user.is_active
    ):
        return None
    return session
