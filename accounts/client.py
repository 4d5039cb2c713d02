"""Who is calling: the client address and user agent that sessions and events record."""

import uuid
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.http import HttpRequest

from accounts.signals import EventType, auth_event_send
from accounts.throttles import client_ip

USER_AGENT_MAX_LENGTH = 512


@dataclass(frozen=True)
class ClientInfo:
    """Who is calling, recorded on the sessions they open and the events they cause."""

    ip: str | None
    user_agent: str

    @classmethod
    def from_request(cls, request: HttpRequest | None) -> "ClientInfo":
        """The caller of an API view, an admin page or the admin login's backend (None: an
        `authenticate()` without a request, from a shell, is nobody in particular)."""
        if request is None:
            return cls(ip=None, user_agent="")
        return cls(ip=client_ip(request), user_agent=request.headers.get("User-Agent", ""))

    def event(
        self,
        type: EventType,
        *,
        user_id: uuid.UUID,
        session_id: uuid.UUID | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        """Send `auth_event` for this caller; inside the change's transaction."""
        auth_event_send(
            type,
            user_id=user_id,
            ip=self.ip,
            user_agent=self.user_agent[:USER_AGENT_MAX_LENGTH],
            session_id=session_id,
            detail=detail,
        )

    def event_alone(
        self,
        type: EventType,
        *,
        user_id: uuid.UUID,
        detail: dict[str, Any] | None = None,
    ) -> None:
        """An event that records no change of its own (a failed sign-in): its own transaction."""
        with transaction.atomic():
            self.event(type, user_id=user_id, detail=detail)
