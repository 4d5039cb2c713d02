"""Response bodies of the audit API."""

import uuid
from datetime import datetime

from ninja import Field, Schema

from accounts.signals import EventType
from audit.models import AuthEvent

# The events whose `method` says how the user proved who they are.
PROVING_TYPES = frozenset({EventType.SIGNIN, EventType.REAUTHENTICATED})


class AuthEventOut(Schema):
    type: str
    at: datetime
    ip: str | None
    user_agent: str
    session_id: uuid.UUID | None
    method: str | None = Field(
        description="How a sign-in or re-authentication was made (password, totp, ...)."
    )

    @staticmethod
    def resolve_method(event: AuthEvent) -> str | None:
        method = event.detail.get("method") if event.type in PROVING_TYPES else None
        return method if isinstance(method, str) else None
