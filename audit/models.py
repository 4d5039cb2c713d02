"""AuthEvent: one row for each security-relevant event of an account."""

from django.db import models
from django.utils import timezone

from accounts.models import User


class AuthEvent(models.Model):
    class Type(models.TextChoices):
        # Exactly the protocol's event types (API.md; accounts.signals.EventType).
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

    id = models.BigAutoField(primary_key=True)
    type = models.CharField(max_length=32, choices=Type.choices)
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
        ]

    def __str__(self) -> str:
        return f"{self.type} at {self.at:%Y-%m-%d %H:%M:%S}"
