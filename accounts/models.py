"""Users, their sign-in sessions, the refresh tokens of each session, the tokens of the links sent
by email, sign-in codes sent by email, and throttle counters."""

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import PermissionsMixin
from django.db import models, router, transaction
from django.db.models.functions import Lower
from django.dispatch import Signal
from django.utils import timezone

from accounts.managers import AuthSessionQuerySet, EmailTokenQuerySet, UserManager
from accounts.signals import (
    EventType,
    auth_event_send,
    credentials_changed,
    in_transaction_send,
    user_deactivated,
)

EMAIL_MAX_LENGTH = 254


class RevokedReason(models.TextChoices):
    """Why a session ended before it expired."""

    SIGNOUT = "signout", "Signed out"
    REFRESH_REUSE = "refresh_reuse", "A rotated refresh token came back (theft)"
    PASSWORD_CHANGE = "password_change", "The password changed"
    PASSWORD_RESET = "password_reset", "The password was reset by email"
    ADMIN = "admin", "Revoked by an operator"
    ACCOUNT_DELETION = "account_deletion", "The account was deleted"


@dataclass(frozen=True)
class PasswordWrite:
    """A service's password write: why the sessions end, and when."""

    reason: RevokedReason
    now: datetime


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
    # Set while the account is scheduled for deletion (inactive until restored): `manage.py
    # purge` erases it after this time (accounts.flows.deletion).
    delete_after = models.DateTimeField(null=True, blank=True, db_index=True)

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

    # The password and `is_active` as loaded from the database: `save` compares against them.
    stored_password: str | None = None
    stored_is_active: bool | None = None
    # Set by `password_store` for the one save it makes.
    password_write: PasswordWrite | None = None

    @classmethod
    def from_db(cls, db: str | None, field_names: Any, values: Any, **kwargs: Any) -> "User":
        user = super().from_db(db, field_names, values, **kwargs)
        user.stored_password = user.__dict__.get("password")  # None when deferred
        user.stored_is_active = user.__dict__.get("is_active")
        return user

    def save(self, *args: Any, **kwargs: Any) -> None:
        """The one home of what a change of credentials ends, whatever the path.

        A password changed in any way (the API's change and reset, `set_password`,
        `set_unusable_password`, the admin's forms, `manage.py changepassword`, a shell) ends, in
        the same transaction as the new password: every unused link sent by email (an address
        change asked for with the old password dies with it), whatever other apps keep pending
        (`credentials_changed`: second-factor challenges), and every session. Whoever held
        anything issued under the old password holds nothing any more. A user made inactive
        loses their unused links, pending challenges (`user_deactivated`) and sessions the same
        way, so that making them active again brings none back.
        """
        update_fields = kwargs.get("update_fields")
        write = self.password_write
        # `set_password` keeps the raw password in `_password` until the save; any other change
        # (`set_unusable_password`, a new hash assigned) differs from what was loaded or saved.
        password_changed = (
            not self._state.adding
            and (update_fields is None or "password" in update_fields)
            and (
                write is not None
                or getattr(self, "_password", None) is not None
                or (self.stored_password is not None and self.password != self.stored_password)
            )
        )
        deactivated = (
            not self._state.adding
            and (update_fields is None or "is_active" in update_fields)
            and self.stored_is_active is True
            and not self.is_active
        )
        if not (password_changed or deactivated):
            super().save(*args, **kwargs)
        else:
            now = write.now if write is not None else timezone.now()
            with transaction.atomic(using=kwargs.get("using") or router.db_for_write(User)):
                super().save(*args, **kwargs)
                if password_changed:
                    self.pending_end(now=now, signal=credentials_changed)
                    self.auth_sessions.revoke(
                        reason=write.reason if write else RevokedReason.PASSWORD_CHANGE, now=now
                    )
                    if write is None:  # a service records its own event, with its session
                        auth_event_send(
                            EventType.PASSWORD_CHANGED, user_id=self.pk, detail={"via": "save"}
                        )
                if deactivated:
                    self.pending_end(now=now, signal=user_deactivated)
                    # Refused while inactive anyway; revoked so that reactivating the account
                    # (after a compromise, say) brings no old session back.
                    self.auth_sessions.revoke(reason=RevokedReason.ADMIN, now=now)
        if update_fields is None or "password" in update_fields:
            self.stored_password = self.password
        if update_fields is None or "is_active" in update_fields:
            self.stored_is_active = self.is_active

    def pending_end(self, *, now: datetime, signal: Signal) -> None:
        """End the user's unused links and sign-in code and, through `signal`, what other apps
        keep pending. Before the sessions are revoked: a second factor's check that holds its
        challenge's lock finishes first (and the session it opened is then revoked with the
        others)."""
        EmailToken.objects.for_user(self).pending().end(now)
        EmailCode.objects.filter(user=self).delete()
        in_transaction_send(signal, "a change of credentials", user=self, now=now)

    def password_store(
        self,
        encoded: str,
        *,
        reason: RevokedReason,
        now: datetime,
        also_update: Iterable[str] = (),
    ) -> None:
        """Store a password the caller hashed (off the event loop) through `save`, so that it
        ends what any password write ends, the sessions revoked for `reason`. The caller records
        its own event (with the session it opens), so `save` records none."""
        self.password = encoded
        self.password_write = PasswordWrite(reason=reason, now=now)
        try:
            self.save(update_fields=["password", *also_update])
        finally:
            self.password_write = None


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
        AuthSession, on_delete=models.CASCADE, related_name="refresh_tokens"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    # Each rotation's new token names the one it replaced; two, when two tabs refreshed with
    # the same token within REFRESH_REUSE_GRACE.
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children"
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
    RESTORE_ACCOUNT = "restore_account", "Restore an account scheduled for deletion"


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

    objects = EmailTokenQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["user", "purpose"], name="emailtoken_user_purpose"),
            models.Index(fields=["expires_at"], name="emailtoken_expires"),
        ]

    def __str__(self) -> str:
        return f"{self.purpose} token {self.pk} of user {self.user_id}"

    def is_usable_at(self, now: datetime) -> bool:
        """Unused, unexpired, its user active (for a restore: scheduled for deletion instead)
        and still holding the address (for a change: the new address is in the token)."""
        if self.used_at is not None or self.expires_at <= now:
            return False
        if self.purpose == EmailTokenPurpose.RESTORE_ACCOUNT:
            due = self.user.delete_after
            return due is not None and due > now and self.user.email == self.email
        if not self.user.is_active:
            return False
        return self.purpose == EmailTokenPurpose.EMAIL_CHANGE or self.user.email == self.email


class EmailCode(models.Model):
    """A sign-in code sent by email, kept only as a keyed digest (accounts.flows.email_code): one
    per address (a new one replaces it), single use, expiring, dead after too many wrong tries."""

    id = models.BigAutoField(primary_key=True)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="email_codes")
    # The address it was sent to: a code is dead once its user no longer holds it.
    email = models.EmailField(max_length=EMAIL_MAX_LENGTH, unique=True)
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(db_index=True)
    failures = models.PositiveSmallIntegerField(default=0)

    def __str__(self) -> str:
        return f"sign-in code of user {self.user_id}"
