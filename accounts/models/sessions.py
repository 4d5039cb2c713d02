"""Sign-in sessions and the refresh tokens of each."""

import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

from accounts.managers import AuthSessionQuerySet
from accounts.models.users import RevokedReason, User


class AuthSession(models.Model):
    """One sign-in on one device: what access tokens point at, and what sign-out revokes."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.DB_CASCADE, related_name="auth_sessions")
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=32, blank=True, choices=RevokedReason.choices)
    client_ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)
    # The last time its user proved who they are again (POST /api/auth/reauthenticate); until
    # then, the sign-in that made it (created_at).
    reauthenticated_at = models.DateTimeField(null=True, blank=True)

    objects = AuthSessionQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["user", "revoked_at"], name="authsession_user_live"),
            models.Index(fields=["expires_at"], name="authsession_expires"),
        ]

    def __str__(self) -> str:
        # Titles the admin's session rows: select_related("user") where many are shown.
        return f"{self.user.email} since {self.created_at:%Y-%m-%d %H:%M}"

    def is_live_at(self, now: datetime) -> bool:
        """AuthSessionQuerySet.live's rule for a row loaded without it: the fast path's lookup
        by primary key, a refresh token's session."""
        return self.revoked_at is None and self.expires_at > now

    def is_fresh_at(self, now: datetime) -> bool:
        """Whether its user proved who they are (signed in, re-authenticated) within
        REAUTH_MAX_AGE: what dangerous actions ask of a session (accounts.auth)."""
        proved = max(self.created_at, self.reauthenticated_at or self.created_at)
        return now - proved < timedelta(seconds=settings.REAUTH_MAX_AGE)


class RefreshToken(models.Model):
    """A refresh token, kept only as its SHA-256. Each rotation links the new token to its parent,
    so presenting a token that was already rotated reveals a stolen copy."""

    id = models.BigAutoField(primary_key=True)
    session = models.ForeignKey(
        AuthSession, on_delete=models.DB_CASCADE, related_name="refresh_tokens"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    # Each rotation's new token names the one it replaced; two, when two tabs refreshed with
    # the same token within REFRESH_REUSE_GRACE.
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.DB_SET_NULL, related_name="children"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"refresh token {self.pk} of session {self.session_id}"
