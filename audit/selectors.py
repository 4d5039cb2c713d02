"""Reads: a user's events, newest first, and the pages of them GET /api/auth/events answers."""

import uuid
from datetime import datetime

from django.db.models import Q, QuerySet

from audit.models import AuthEvent

# From this offset on, a page skips the events before it through the index alone: below it,
# reading the skipped rows costs less than looking the page's rows up a second time.
INDEX_ONLY_SKIP_FROM = 1_000


def auth_events_of_user(*, user_id: uuid.UUID) -> QuerySet[AuthEvent]:
    """Served by the index authevent_user_at (user, time and id, newest first)."""
    return AuthEvent.objects.filter(user_id=user_id).order_by("-at", "-id")


def auth_events_after(events: QuerySet[AuthEvent], *, at: datetime, pk: int) -> QuerySet[AuthEvent]:
    """Those of `events` (newest first) that come after the event at (`at`, `pk`): the index
    range starts at `at`, and only the events of that very time are filtered."""
    return events.filter(Q(at__lte=at) & (Q(at__lt=at) | Q(id__lt=pk)))


async def auth_events_slice(
    events: QuerySet[AuthEvent], *, offset: int, limit: int
) -> list[AuthEvent]:
    """`events[offset:offset + limit]`. A deep offset skips through authevent_user_at alone,
    which holds all the order needs (an index-only scan), and reads only the page's rows."""
    if offset < INDEX_ONLY_SKIP_FROM:
        return [event async for event in events[offset : offset + limit]]
    ids = events.values("id")[offset : offset + limit]
    page = AuthEvent.objects.filter(id__in=ids).order_by("-at", "-id")
    return [event async for event in page]


def auth_events_naming_staff(*, staff_id: str) -> QuerySet[AuthEvent]:
    """Events whose detail names this staff member (what they did to other accounts), found
    through the index authevent_staff: `has_key` is its condition, which the query must state."""
    return AuthEvent.objects.filter(detail__has_key="staff_id", detail__staff_id=staff_id)


async def auth_events_count(events: QuerySet[AuthEvent]) -> int:
    """An index-only scan of the user's entries (the index on the user alone is the smallest)."""
    return await events.order_by().acount()
