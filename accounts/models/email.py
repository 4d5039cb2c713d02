"""What is sent by email: the tokens of links, and sign-in codes."""

from datetime import datetime

from django.db import models
from django.utils import timezone

from accounts.managers import EmailTokenQuerySet
from accounts.models.users import EMAIL_MAX_LENGTH, User


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
