"""AuthEvent: one row for each security-relevant event of an account."""

from django.db import models
from django.db.models import Q
from django.db.models.fields.json import KeyTransform
from django.utils import timezone

from accounts.models import User
from accounts.signals import EventType


def event_type_choices() -> list[tuple[str, str]]:
    """The protocol's event types with their labels (accounts.signals.EventType), read when
    needed: a new type is no change to the table, so it needs no migration."""
    return EventType.choices


class AuthEvent(models.Model):
    """One event of accounts' `auth_event` signal; its types are accounts.signals.EventType."""

    id = models.BigAutoField(primary_key=True)
    type = models.CharField(max_length=32, choices=event_type_choices)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="auth_events")
    at = models.DateTimeField(default=timezone.now)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)
    # No foreign key: purged sessions must not take their history with them.
    session_id = models.UUIDField(null=True, blank=True)
    # Context without secrets (which action, how many sessions, which fields changed).
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["user", "-at", "-id"], name="authevent_user_at"),
            models.Index(fields=["at"], name="authevent_at"),
            models.Index(fields=["type", "-at"], name="authevent_type_at"),
            # The events naming a staff member, found when that member's account is erased
            # (audit.services.auth_events_erase): only those few rows are in it.
            models.Index(
                KeyTransform("staff_id", "detail"),
                condition=Q(detail__has_key="staff_id"),
                name="authevent_staff",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type} at {self.at:%Y-%m-%d %H:%M:%S}"
