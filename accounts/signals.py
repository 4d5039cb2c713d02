"""The `auth_event` signal: what the services tell an audit trail, from inside their transactions.

accounts never imports the app that records events (import-linter forbids it); any app may
connect a receiver. The receiver runs synchronously in the sender's transaction, so an event is
committed with the change it records, or not at all.
"""

import uuid
from typing import Any, Literal, get_args

from django.db import transaction
from django.dispatch import Signal

# The protocol's event types (../shared/API.md); the recording app's choices must equal these.
EventType = Literal[
    "signup",
    "signin",
    "signin_failed",
    "mfa_failed",
    "refresh_reuse",
    "signout",
    "session_revoked",
    "password_changed",
    "password_reset",
    "email_verified",
    "email_changed",
    "mfa_enabled",
    "mfa_disabled",
    "recovery_codes_regenerated",
    "admin_action",
]
EVENT_TYPES: tuple[str, ...] = get_args(EventType)

# Sent with: type (EventType), user_id, ip, user_agent, session_id, detail (a JSON-able dict
# without secrets).
auth_event = Signal()


class EventOutsideTransaction(RuntimeError):
    """An event sent with no transaction open could be recorded without its change."""


def auth_event_send(
    type: EventType,
    *,
    user_id: uuid.UUID,
    ip: str | None = None,
    user_agent: str = "",
    session_id: uuid.UUID | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Announce one event. Must run inside the atomic block of the change it records."""
    if not transaction.get_connection().in_atomic_block:
        raise EventOutsideTransaction(f"auth event {type!r} sent outside a transaction")
    auth_event.send(
        sender=None,
        type=type,
        user_id=user_id,
        ip=ip,
        user_agent=user_agent,
        session_id=session_id,
        detail=detail or {},
    )
