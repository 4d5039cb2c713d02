"""The account's data export: everything the service keeps about its user, gathered from every app
(accounts.personal_data), as one JSON document the user downloads; never a secret, a hash or a
token. The download is recorded as a `data_exported` event."""

from datetime import datetime
from typing import Any

from asgiref.sync import sync_to_async
from django.db import transaction
from django.utils import timezone

from accounts.client import ClientInfo
from accounts.devices import device_label
from accounts.models import AuthSession, User
from accounts.personal_data import export_parts_gather
from accounts.signals import EventType


async def user_data_export(*, session: AuthSession, client: ClientInfo) -> dict[str, Any]:
    """The document of AccountExportOut for the session's user."""
    return await sync_to_async(_user_data_export)(
        session=session, client=client, now=timezone.now()
    )


def _user_data_export(*, session: AuthSession, client: ClientInfo, now: datetime) -> dict[str, Any]:
    with transaction.atomic():
        user = User.objects.get(pk=session.user_id)
        document: dict[str, Any] = {
            "exported_at": now,
            "user": user,
            "sessions": [
                auth_session_exported(found)
                for found in AuthSession.objects.filter(user=user).order_by("-created_at", "-pk")
            ],
            # What the apps that keep them answer instead (accounts.personal_data).
            "events": [],
            "passkeys": [],
            "identities": [],
            "mfa": {"totp": False, "recovery_codes_left": 0},
        }
        document.update(export_parts_gather(user))
        client.event(EventType.DATA_EXPORTED, user_id=user.pk, session_id=session.pk)
    return document


def auth_session_exported(session: AuthSession) -> dict[str, Any]:
    """A session, live or revoked, without its tokens."""
    return {
        "id": session.pk,
        "created_at": session.created_at,
        "last_used_at": session.last_used_at,
        "expires_at": session.expires_at,
        "revoked_at": session.revoked_at,
        "revoked_reason": session.revoked_reason or None,
        "reauthenticated_at": session.reauthenticated_at,
        "ip": session.client_ip,
        "user_agent": session.user_agent,
        "device": device_label(session.user_agent),
    }
