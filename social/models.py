"""Identities at other providers linked to users, and the short-lived state of the browser flow."""

from django.db import models
from django.utils import timezone

from accounts.models import User


class Identity(models.Model):
    """A user's account at a provider: the provider's (issuer, subject) pair names it for good;
    the email is what the provider said when it was linked or last used."""

    id = models.BigAutoField(primary_key=True)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="identities")
    provider = models.CharField(max_length=32, help_text="The configured provider id.")
    issuer = models.CharField(max_length=255)
    subject = models.CharField(max_length=255)
    email = models.CharField(max_length=254, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "identities"
        constraints = [
            models.UniqueConstraint(fields=["issuer", "subject"], name="identity_issuer_subject"),
        ]

    def __str__(self) -> str:
        return f"{self.provider} identity of {self.user_id}"


class AuthorizationFlow(models.Model):
    """One browser's trip to a provider, found by the SHA-256 of its `state`: single use,
    bound to the browser by the SHA-256 of its binding cookie. The nonce and the PKCE verifier
    are derived from the state with the secret key (social.flows.authorization), so nothing
    here is usable alone."""

    id = models.BigAutoField(primary_key=True)
    state_hash = models.CharField(max_length=64, unique=True)
    binding_hash = models.CharField(max_length=64)
    provider = models.CharField(max_length=32)
    process = models.CharField(max_length=8)  # "signin" or "link"
    # For `link`: the user the identity goes to.
    user = models.ForeignKey(User, on_delete=models.CASCADE, null=True, blank=True)
    redirect_uri = models.CharField(max_length=512)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["expires_at"], name="authorizationflow_expires")]

    def __str__(self) -> str:
        return f"{self.process} flow {self.pk} with {self.provider}"


class ExchangeCode(models.Model):
    """What the callback hands the frontend (`?code=`): single use, short-lived, traded at
    POST /api/auth/providers/exchange for a session. Kept as its SHA-256, with the binding hash
    of the flow it ends: only the browser that started the flow may trade it (a code alone,
    sent to someone else's browser, would sign them in as whoever got it: login CSRF)."""

    id = models.BigAutoField(primary_key=True)
    code_hash = models.CharField(max_length=64, unique=True)
    binding_hash = models.CharField(max_length=64)
    user = models.ForeignKey(User, on_delete=models.CASCADE)
    provider = models.CharField(max_length=32)
    expires_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["expires_at"], name="exchangecode_expires")]

    def __str__(self) -> str:
        return f"exchange code {self.pk}"


class SpentIdToken(models.Model):
    """An ID token (or a nonce) a native app already signed in with, kept until the token
    expires, so that it signs nobody in twice."""

    id = models.BigAutoField(primary_key=True)
    digest = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["expires_at"], name="spentidtoken_expires")]

    def __str__(self) -> str:
        return f"spent ID token {self.pk}"
