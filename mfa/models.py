"""A user's TOTP device, their recovery codes, and the challenges of half-done sign-ins."""

from django.db import models
from django.utils import timezone

from accounts.models import User


class TOTPDeviceQuerySet(models.QuerySet["TOTPDevice"]):
    def on(self) -> "TOTPDeviceQuerySet":
        """Confirmed by a first code: TOTP is on (what `mfa.selectors.totp_is_on` asks)."""
        return self.filter(confirmed_at__isnull=False)

    def pending(self) -> "TOTPDeviceQuerySet":
        """Set up, waiting for the first code."""
        return self.filter(confirmed_at__isnull=True)


class TOTPDevice(models.Model):
    """One authenticator per user; pending (confirmed_at null) until a first code proves it."""

    user = models.OneToOneField(
        User, on_delete=models.CASCADE, primary_key=True, related_name="totp_device"
    )
    # The base32 secret, sealed (mfa.sealing); shown once at setup and never again: no API
    # answer, no admin page carries it.
    secret_sealed = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    # The time step of the last accepted code: a code for it or an earlier step is a replay.
    last_used_step = models.BigIntegerField(null=True, blank=True)

    objects = TOTPDeviceQuerySet.as_manager()

    def __str__(self) -> str:
        return f"authenticator of {self.user_id}"


class RecoveryCode(models.Model):
    """A single-use code, kept only as the SHA-256 of its 80 random bits."""

    id = models.BigAutoField(primary_key=True)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="recovery_codes")
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "code_hash"], name="recoverycode_user_hash"),
        ]

    def __str__(self) -> str:
        return f"recovery code {self.pk}"


class MfaChallenge(models.Model):
    """The second step of one sign-in: an opaque token (stored as SHA-256), single use,
    expiring, dead after too many wrong codes."""

    id = models.BigAutoField(primary_key=True)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="mfa_challenges")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    failures = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["expires_at"], name="mfachallenge_expires")]

    def __str__(self) -> str:
        return f"challenge {self.pk} of {self.user_id}"
