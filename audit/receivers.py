"""The receiver of accounts' `auth_event`: one AuthEvent row, in the sender's transaction."""

import uuid
from typing import Any

from accounts.signals import EventType
from audit.models import AuthEvent


def auth_event_store(
    sender: object,
    *,
    type: str,
    user_id: uuid.UUID,
    ip: str | None,
    user_agent: str,
    session_id: uuid.UUID | None,
    detail: dict[str, Any],
    **kwargs: Any,
) -> None:
    if type not in EventType.values:
        raise ValueError(f"unknown auth event type {type!r}")
    AuthEvent.objects.create(
        type=type,
        user_id=user_id,
        ip=ip,
        user_agent=user_agent,
        session_id=session_id,
        detail=detail,
    )
