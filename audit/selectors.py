"""Reads: a user's events, newest first."""

import uuid

from django.db.models import QuerySet

from audit.models import AuthEvent


def auth_events_of_user(*, user_id: uuid.UUID) -> QuerySet[AuthEvent]:
    """Served by the index authevent_user_at; ninja's pagination slices it."""
    return AuthEvent.objects.filter(user_id=user_id).order_by("-at", "-id")


def auth_events_naming_staff(*, staff_id: str) -> QuerySet[AuthEvent]:
    """Events whose detail names this staff member (what they did to other accounts), found
    through the index authevent_staff: `has_key` is its condition, which the query must state."""
    return AuthEvent.objects.filter(detail__has_key="staff_id", detail__staff_id=staff_id)
