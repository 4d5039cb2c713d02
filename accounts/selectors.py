"""Reads: users and live sessions."""

import uuid
from datetime import datetime

from asgiref.sync import sync_to_async
from django.conf import settings

from accounts.models import AuthSession, User
from fastpath.lookups import CompiledPkLookup


async def user_get_by_email(*, email: str) -> User | None:
    return await User.objects.filter(email=email).afirst()


async def user_email_exists(*, email: str) -> bool:
    return await User.objects.filter(email=email).aexists()


async def auth_session_get_live(
    *, session_id: uuid.UUID, user_id: uuid.UUID, now: datetime
) -> AuthSession | None:
    """The session an access token names, if it is live and its user active.

    Looked up by primary key alone and judged here, so that the query stays one the fast path
    can compile once (`fastpath.lookups`), and the rules read plainly.
    """
    if settings.FAST_PATH:
        session = await sync_to_async(session_with_user_lookup.get)(session_id)
    else:
        session = await AuthSession.objects.select_related("user").filter(pk=session_id).afirst()
    if session is None:
        return None
    if session.user_id != user_id or not session.is_live_at(now) or not session.user.is_active:
        return None
    return session


session_with_user_lookup = CompiledPkLookup(AuthSession, "user")


async def auth_sessions_live(*, user_id: uuid.UUID, now: datetime) -> list[AuthSession]:
    """The user's unrevoked, unexpired sessions, newest first (index authsession_user_live)."""
    sessions = AuthSession.objects.filter(
        user_id=user_id, revoked_at__isnull=True, expires_at__gt=now
    ).order_by("-created_at", "-pk")
    return [session async for session in sessions]
