"""Users, their sign-in sessions, the refresh tokens of each session, the tokens of the links sent
by email, and throttle counters."""

import uuid
from datetime import datetime
from typing import Any, ClassVar

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import PermissionsMixin
from django.db import models, router, transaction
from django.db.models.functions import Lower
from django.utils import timezone

from accounts.managers import UserManager

EMAIL_MAX_LENGTH = 254


class User(AbstractBaseUser, PermissionsMixin):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # unique=True serves exact lookups; the constraint below makes it case-insensitive.
    email = models.EmailField(max_length=EMAIL_MAX_LENGTH, unique=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False, help_text="Can log in to the admin site.")
    email_verified = models.BooleanField(
        default=False, help_text="The user followed a link sent to this address."
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # The database decides uniqueness, also when two sign-ups race.
            models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.email

    def clean(self) -> None:
        super().clean()
        self.email = UserManager.normalize_email(self.email)

    def save(self, *args: Any, **kwargs: Any) -> None:
        """A password set through `set_password` (the admin's form, `manage.py changepassword`,
        a shell) ends every session of the user, in the same transaction as the new password:
        whoever held a token issued under the old password holds nothing any more."""
        # Django keeps the raw password in `_password` from set_password until the save.
        password_set = getattr(self, "_password", None) is not None and not self._state.adding
        if not password_set:
            super().save(*args, **kwargs)
            return
        with transaction.atomic(using=kwargs.get("using") or router.db_for_write(User)):
            super().save(*args, **kwargs)
            self.auth_sessions.filter(revoked_at__isnull=True).update(
                revoked_at=timezone.now(), revoked_reason=RevokedReason.PASSWORD_CHANGE
            )


class RevokedReason(models.TextChoices):
    """Why a session ended before it expired."""

    SIGNOUT = "signout", "Signed out"
    REFRESH_REUSE = "refresh_reuse", "A rotated refresh token came back (theft)"
    PASSWORD_CHANGE = "password_change", "The password changed"
    PASSWORD_RESET = "password_reset", "The password was reset by email"
    ADMIN = "admin", "Revoked by an operator"


class AuthSession(models.Model):
    """One sign-in on one device: what access tokens point at, and what sign-out revokes."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="auth_sessions")
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=32, blank=True, choices=RevokedReason.choices)
    client_ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)

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
        """Unrevoked and unexpired at `now` (whether its user is active is the user's rule)."""
        return self.revoked_at is None and self.expires_at > now


class RefreshToken(models.Model):
    """A refresh token, kept only as its SHA-256. Each rotation links the new token to its parent,
    so presenting a token that was already rotated reveals a stolen copy."""

    id = models.BigAutoField(primary_key=True)
    session = models.ForeignKey(
        AuthSession, on_delete=models.CASCADE, related_name="refresh_tokens"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    parent = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="child"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"refresh token {self.pk} of session {self.session_id}"


class ThrottleCounter(models.Model):
    """A fixed-window request counter shared by every worker process (counted by an upsert)."""

    key = models.CharField(max_length=200, primary_key=True)
    window_start = models.BigIntegerField()
    count = models.IntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.key}: {self.count}"


class EmailTokenPurpose(models.TextChoices):
    """What following a link sent by email does."""

    VERIFY_EMAIL = "verify_email", "Verify the address"
    PASSWORD_RESET = "password_reset", "Reset the password"
    EMAIL_CHANGE = "email_change", "Confirm a new address"


class EmailToken(models.Model):
    """The token of a link sent by email, kept only as its SHA-256: single use, expiring, bound
    to the address it was sent to (a link sent to an address the user no longer has is dead)."""

    id = models.BigAutoField(primary_key=True)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="email_tokens")
    purpose = models.CharField(max_length=32, choices=EmailTokenPurpose.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    # For an email change, the new address; otherwise the user's address when it was sent.
    email = models.EmailField(max_length=EMAIL_MAX_LENGTH)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["user", "purpose"], name="emailtoken_user_purpose"),
            models.Index(fields=["expires_at"], name="emailtoken_expires"),
        ]

    def __str__(self) -> str:
        return f"{self.purpose} token {self.pk} of user {self.user_id}"

    def is_usable_at(self, now: datetime) -> bool:
        """Unused, unexpired, its user active and still holding the address (for a change:
        the new address is in the token, the user may hold any)."""
        if self.used_at is not None or self.expires_at <= now or not self.user.is_active:
            return False
        return self.purpose == EmailTokenPurpose.EMAIL_CHANGE or self.user.email == self.email
