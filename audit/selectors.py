"""Reads: a user's events, newest first."""

import uuid

from django.db.models import QuerySet

from audit.models import AuthEvent


def auth_events_of_user(*, user_id: uuid.UUID) -> QuerySet[AuthEvent]:
    """Served by the index authevent_user_at; ninja's pagination slices it."""
    return AuthEvent.objects.filter(user_id=user_id).order_by("-at", "-id")
