"""Signals of accounts, sent from inside the transaction of the change they announce: `auth_event`
(what an audit trail records), `credentials_changed` and `user_deactivated` (what other apps end).

accounts never imports the apps that listen (import-linter forbids it); any app may connect a
receiver. Receivers run synchronously in the sender's transaction, so what they write is
committed with the change, or not at all.
"""

import uuid
from typing import Any

from django.db import models, transaction
from django.dispatch import Signal


class EventType(models.TextChoices):
    """The protocol's event types (../shared/API.md), each with the label the admin shows: the
    one list, from which the recording app builds its choices."""

    SIGNUP = "signup", "Signed up"
    SIGNIN = "signin", "Signed in"
    SIGNIN_FAILED = "signin_failed", "Wrong password"
    MFA_FAILED = "mfa_failed", "Wrong second-factor code"
    REFRESH_REUSE = "refresh_reuse", "Refresh token reused (session revoked)"
    SIGNOUT = "signout", "Signed out"
    SESSION_REVOKED = "session_revoked", "Session revoked"
    PASSWORD_CHANGED = "password_changed", "Password changed"
    PASSWORD_RESET = "password_reset", "Password reset"
    EMAIL_VERIFIED = "email_verified", "Email verified"
    EMAIL_CHANGED = "email_changed", "Email changed"
    MFA_ENABLED = "mfa_enabled", "Two-factor authentication on"
    MFA_DISABLED = "mfa_disabled", "Two-factor authentication off"
    RECOVERY_CODES_REGENERATED = "recovery_codes_regenerated", "Recovery codes regenerated"
    ADMIN_ACTION = "admin_action", "Action by staff"
    REAUTHENTICATED = "reauthenticated", "Re-authenticated"
    NEW_DEVICE_NOTICE = "new_device_notice", "Sign-in from a new device (notice sent)"
    ACCOUNT_DELETION_REQUESTED = "account_deletion_requested", "Account deletion requested"
    ACCOUNT_RESTORED = "account_restored", "Account restored"
    DATA_EXPORTED = "data_exported", "Personal data exported"
    IDENTITY_LINKED = "identity_linked", "Provider identity linked"
    IDENTITY_UNLINKED = "identity_unlinked", "Provider identity removed"
    PASSKEY_ADDED = "passkey_added", "Passkey added"
    PASSKEY_REMOVED = "passkey_removed", "Passkey removed"
    PASSKEY_CLONE_SUSPECTED = "passkey_clone_suspected", "Passkey counter went backwards (refused)"
    UNVERIFIED_CREDENTIALS_CLEARED = (
        "unverified_credentials_cleared",
        "The address's owner proved it: what was set up before removed",
    )


EVENT_TYPES: tuple[str, ...] = tuple(EventType.values)

# Sent with: type (an EventType value), user_id, ip, user_agent, session_id, detail (a JSON-able
# dict without secrets).
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
    value = EventType(type).value  # receivers get the plain string
    in_transaction_send(
        auth_event,
        f"auth event {value!r}",
        type=value,
        user_id=user_id,
        ip=ip,
        user_agent=user_agent,
        session_id=session_id,
        detail=detail or {},
    )
