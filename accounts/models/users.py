"""Users: the account, its password writes and what they end."""

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import PermissionsMixin
from django.db import models, router, transaction
from django.db.models.functions import Lower
from django.dispatch import Signal
from django.utils import timezone

from accounts.exceptions import EmailVerificationRequired
from accounts.managers import UserManager
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
    MAILBOX_PROVEN = "mailbox_proven", "The address's owner took the unverified account over"


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

    def credential_addition_ensure(self) -> None:
        """A credential besides the password (TOTP, a passkey, a linked identity) only once the
        address is proven: anyone can sign up with someone else's address, and what they added
        before its owner proved the mailbox would outlive that proof. EmailVerificationRequired
        (403) otherwise. What such an account holds when its owner proves the mailbox by signing
        in is taken from whoever set it up (accounts.unverified)."""
        if not self.email_verified:
            raise EmailVerificationRequired

    def pending_end(self, *, now: datetime, signal: Signal) -> None:
        """End the user's unused links and sign-in code and, through `signal`, what other apps
        keep pending. Before the sessions are revoked: a second factor's check that holds its
        challenge's lock finishes first (and the session it opened is then revoked with the
        others)."""
        self.email_tokens.pending().end(now)
        self.email_codes.all().delete()
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
