"""Signals of accounts, sent from inside the transaction of the change they announce: `auth_event`
(what an audit trail records), `credentials_changed` and `user_deactivated` (what other apps end).

accounts never imports the apps that listen (import-linter forbids it); any app may connect a
receiver. Receivers run synchronously in the sender's transaction, so what they write is
committed with the change, or not at all.
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


# Sent by User.save when a user's password changed by any path (the API's change and reset, the
# admin's forms, `manage.py changepassword`, `set_password` and `save` in a shell), with: user,
# now. Whatever another app keeps pending for the user that proves who they are (a second
# factor's half-done sign-in) must end here: it was earned under the old password.
credentials_changed = Signal()
# Sent by User.save when `is_active` went from true to false (the admin's form, a shell), with:
# user, now. What is pending must not come back to life if the user is made active again.
user_deactivated = Signal()


class EventOutsideTransaction(RuntimeError):
    """An event sent with no transaction open could be recorded without its change."""


def in_transaction_send(signal: Signal, what: str, **kwargs: Any) -> None:
    """Send `signal` to its receivers; refused outside an atomic block (what they write would
    commit without the change it belongs to)."""
    if not transaction.get_connection().in_atomic_block:
        raise EventOutsideTransaction(f"{what} sent outside a transaction")
    signal.send(sender=None, **kwargs)


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
    in_transaction_send(
        auth_event,
        f"auth event {type!r}",
        type=type,
        user_id=user_id,
        ip=ip,
        user_agent=user_agent,
        session_id=session_id,
        detail=detail or {},
    )
