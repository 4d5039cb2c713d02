"""Sign-in sessions, the refresh-token chains of each, and their refresh tokens."""

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
    # The last re-authentication made on it (POST /api/auth/reauthenticate), on any of its
    # chains: a record for the user's export. Freshness is the chain's (RefreshTokenChain).
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


class RefreshTokenChain(models.Model):
    """One line of refresh tokens within a session: a sign-in starts one, each rotation
    continues it, and a used token presented again within REFRESH_REUSE_GRACE (two tabs, or a
    thief replaying a stolen copy) starts another. Access tokens name their chain (the `chn`
    claim), and freshness belongs to the chain, so that whoever holds a sibling chain never
    shares the freshness its owner proves on theirs."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    session = models.ForeignKey(AuthSession, on_delete=models.DB_CASCADE, related_name="chains")
    created_at = models.DateTimeField(default=timezone.now)
    # When its holder last proved who they are: the sign-in that started it, or a
    # re-authentication made with one of its access tokens. None for a chain a grace replay
    # started: the server cannot tell which of two presenters of one token is the owner.
    proved_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"refresh token chain {self.pk} of session {self.session_id}"

    def is_fresh_at(self, now: datetime) -> bool:
        """Whether its holder proved who they are within REAUTH_MAX_AGE: what dangerous
        actions ask of the chain of the access token that asks (accounts.auth)."""
        if self.proved_at is None:
            return False
        return now - self.proved_at < timedelta(seconds=settings.REAUTH_MAX_AGE)


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
    # Null for tokens issued before chains existed: their rotation starts a chain, not fresh.
    chain = models.ForeignKey(
        RefreshTokenChain,
        null=True,
        blank=True,
        on_delete=models.DB_CASCADE,
        related_name="refresh_tokens",
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"refresh token {self.pk} of session {self.session_id}"
