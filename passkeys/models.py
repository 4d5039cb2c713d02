"""A user's passkeys, the random handle authenticators know them by, and pending challenges."""

from django.db import models
from django.utils import timezone

from accounts.models import User


class PasskeyUser(models.Model):
    """The WebAuthn user handle: random, one per user, never the email (authenticators keep it
    and show it to anyone holding the device)."""

    user = models.OneToOneField(
        User, on_delete=models.CASCADE, primary_key=True, related_name="passkey_handle"
    )
    handle = models.CharField(max_length=128, unique=True)  # base64url of 32 random bytes

    def __str__(self) -> str:
        return f"passkey handle of {self.user_id}"


class Passkey(models.Model):
    """One registered credential: its id and public key, the signature counter it last showed,
    and whether it is synced (backup eligible, backed up)."""

    id = models.BigAutoField(primary_key=True)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="passkeys")
    name = models.CharField(max_length=64)
    credential_id = models.CharField(max_length=1400, unique=True)  # base64url, as browsers send
    public_key = models.BinaryField()  # COSE
    sign_count = models.BigIntegerField(default=0)
    transports = models.JSONField(default=list, blank=True)
    aaguid = models.CharField(max_length=36, blank=True)
    backup_eligible = models.BooleanField(default=False)
    backed_up = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"passkey {self.name!r} of {self.user_id}"


class Purpose(models.TextChoices):
    REGISTER = "register", "Registration"
    SIGNIN = "signin", "Sign-in"
    SECOND_FACTOR = "mfa", "Second factor"
    REAUTHENTICATE = "reauthenticate", "Re-authentication"


class PasskeyChallenge(models.Model):
    """A challenge handed to a browser: kept as its SHA-256 only, single use, expiring, bound
    to its purpose and (except for a sign-in, whose user is not known yet) its user."""

    id = models.BigAutoField(primary_key=True)
    purpose = models.CharField(max_length=16, choices=Purpose.choices)
    user = models.ForeignKey(
        User, on_delete=models.CASCADE, null=True, blank=True, related_name="passkey_challenges"
    )
    challenge_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["expires_at"], name="passkeychallenge_expires")]

    def __str__(self) -> str:
        return f"{self.purpose} challenge {self.pk}"
