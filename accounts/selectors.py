"""Reads: users and live sessions."""

import uuid
from datetime import datetime

from asgiref.sync import sync_to_async
from django.conf import settings

from accounts.models import AuthSession, RefreshToken, RefreshTokenChain, User
from fastpath.lookups import CompiledPkLookup
from toolkit.tokens import token_digest


async def user_get_by_email(*, email: str) -> User | None:
    return await User.objects.filter(email=email).afirst()


async def user_email_exists(*, email: str) -> bool:
    return await User.objects.filter(email=email).aexists()


async def auth_session_get_live(
    *, session_id: uuid.UUID, user_id: uuid.UUID, now: datetime
) -> AuthSession | None:
    """The session an access token names, if it is live (AuthSessionQuerySet.live) and its user
    active.

    With FAST_PATH the row is found by primary key alone, a query `fastpath.lookups` compiles
    once, and the same rule is then applied to it (AuthSession.is_live_at).
    """
    if settings.FAST_PATH:
        session = await session_with_user_get(session_id)
        if session is not None and not session.is_live_at(now):
            return None
    else:
        live = AuthSession.objects.live(now).select_related("user")
        session = await live.filter(pk=session_id).afirst()
    if session is None or session.user_id != user_id or not session.user.is_active:
        return None
    return session


session_with_user_lookup = CompiledPkLookup(AuthSession, "user")
# Made once: building a SyncToAsync (its coroutine checks, update_wrapper) on every request cost
# as much as the hop itself.
session_with_user_get = sync_to_async(session_with_user_lookup.get)


async def refresh_token_chain_is_fresh(
    *, chain_id: uuid.UUID | None, session_id: uuid.UUID, now: datetime
) -> bool:
    """Whether an access token's chain, of the session it names, is fresh
    (RefreshTokenChain.is_fresh_at): one read by primary key, made by the routes that ask for a
    fresh session only. A token issued before chains existed is never fresh."""
    if chain_id is None:
        return False
    chain = (
        await RefreshTokenChain.objects.filter(pk=chain_id, session_id=session_id)
        .only("proved_at")
        .afirst()
    )
    return chain is not None and chain.is_fresh_at(now)


async def auth_session_get_by_refresh_token(*, token: str, now: datetime) -> AuthSession | None:
    """The live session whose current (unused, unexpired) refresh token this is, its user
    active: how a browser signs out with its refresh cookie alone."""
    current = (
        await RefreshToken.objects.select_related("session__user")
        .filter(token_hash=token_digest(token), used_at__isnull=True, expires_at__gt=now)
        .afirst()
    )
    if current is None or not current.session.is_live_at(now):
        return None
    return current.session if current.session.user.is_active else None


async def auth_sessions_live(*, user_id: uuid.UUID, now: datetime) -> list[AuthSession]:
    """The user's live sessions, newest first (index authsession_user_live)."""
    sessions = AuthSession.objects.live(now).filter(user_id=user_id).order_by("-created_at", "-pk")
    return [session async for session in sessions]
