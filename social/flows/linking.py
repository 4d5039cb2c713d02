"""Who a provider's identity signs in, or links to (API.md, "Sign-in with another provider"):

- a known (issuer, subject) signs its user in;
- a new one whose provider asserts `email_verified` for the address of a verified account is
  linked to it; for an unverified account: `account_exists` (sign in with the password first);
- linking (`process: link`) adds it to the signed-in user, whose address must be verified;
- otherwise a new account without a usable password, verified when the provider says so.
"""

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.db import IntegrityError, transaction

from accounts.client import ClientInfo
from accounts.exceptions import EmailVerificationRequired
from accounts.managers import UserManager
from accounts.models import User
from accounts.notices import account_change_notice_enqueue
from accounts.signals import EventType
from social.exceptions import CallbackRefused
from social.models import AuthorizationFlow, ExchangeCode, Identity
from social.profiles import ProviderProfile
from social.providers import provider_get
from toolkit.tokens import token_digest

EXCHANGE_CODE_TTL_SECONDS = 60  # protocol (API.md): the frontend trades it within a minute
# The message mailed when an identity is linked to an existing account (accounts.notices;
# registered in social.apps).
IDENTITY_LINKED_NOTICE = "identity_linked"


@dataclass(frozen=True)
class CallbackAnswer:
    """What the callback sends the browser to the frontend with: one of the three."""

    code: str | None = None
    linked: str | None = None
    error: str | None = None

    def location(self) -> str:
        query = {
            key: value
            for key, value in (("code", self.code), ("linked", self.linked), ("error", self.error))
            if value is not None
        }
        base = settings.FRONTEND_SOCIAL_CALLBACK_URL
        return f"{base}{'&' if '?' in base else '?'}{urlencode(query)}"


def identity_user_resolve(
    *, provider_id: str, profile: ProviderProfile, client: ClientInfo, now: datetime
) -> User:
    """The user this identity signs in (linked or made here). Call inside a transaction."""
    identity = (
        Identity.objects.select_related("user")
        .filter(issuer=profile.issuer, subject=profile.subject)
        .first()
    )
    if identity is not None:
        identity.last_used_at = now
        if profile.email:
            identity.email = profile.email
        identity.save(update_fields=["last_used_at", "email"])
        if not identity.user.is_active:
            raise CallbackRefused("account_disabled")
        return identity.user
    if not profile.email:
        raise CallbackRefused("email_missing")
    email = UserManager.normalize_email(profile.email)
    user = User.objects.filter(email__iexact=email).first()
    existing = user is not None
    if user is not None:
        if not (profile.email_verified and user.email_verified and user.is_active):
            raise CallbackRefused("account_exists")
    else:
        user = User.objects.create_user(email=email, email_verified=profile.email_verified)
        client.event(EventType.SIGNUP, user_id=user.pk, detail={"method": provider_id})
    identity_create(
        user=user,
        provider_id=provider_id,
        profile=profile,
        client=client,
        now=now,
        notice=existing,
    )
    return user


def identity_create(
    *,
    user: User,
    provider_id: str,
    profile: ProviderProfile,
    client: ClientInfo,
    now: datetime,
    notice: bool,
) -> Identity:
    """Link the identity, with its `identity_linked` event; with `notice`, the account existed
    before (linked by matching address, or by its user asking) and its address is told."""
    identity = Identity.objects.create(
        user=user,
        provider=provider_id,
        issuer=profile.issuer,
        subject=profile.subject,
        email=profile.email or "",
        created_at=now,
        last_used_at=now,
    )
    client.event(
        EventType.IDENTITY_LINKED,
        user_id=user.pk,
        detail={"provider": provider_id, "identity_id": identity.pk},
    )
    if notice:
        account_change_notice_enqueue(
            user=user, kind=IDENTITY_LINKED_NOTICE, detail=provider_get(provider_id).name, now=now
        )
    return identity


def identity_link(
    *,
    user_id: uuid.UUID | None,
    provider_id: str,
    profile: ProviderProfile,
    client: ClientInfo,
    now: datetime,
) -> None:
    """Link the identity to the signed-in user who asked (`process: link`); refused when it is
    another user's already, or while the user's address is not verified (checked when the flow
    started, and again here: a flow may outlive a change)."""
    if user_id is None:
        raise CallbackRefused("invalid_state")
    identity = Identity.objects.filter(issuer=profile.issuer, subject=profile.subject).first()
    if identity is not None:
        if identity.user_id != user_id:
            raise CallbackRefused("identity_in_use")
        return
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        raise CallbackRefused("invalid_state")
    try:
        user.credential_addition_ensure()
    except EmailVerificationRequired:
        raise CallbackRefused("email_unverified") from None
    identity_create(
        user=user, provider_id=provider_id, profile=profile, client=client, now=now, notice=True
    )


def callback_identity_settle(
    *, flow: AuthorizationFlow, profile: ProviderProfile, client: ClientInfo, now: datetime
) -> CallbackAnswer:
    """Sign-in: the user, and an exchange code for the frontend. Link: the identity linked."""
    try:
        with transaction.atomic():
            if flow.process == "link":
                identity_link(
                    user_id=flow.user_id,
                    provider_id=flow.provider,
                    profile=profile,
                    client=client,
                    now=now,
                )
                return CallbackAnswer(linked=flow.provider)
            user = identity_user_resolve(
                provider_id=flow.provider, profile=profile, client=client, now=now
            )
            code = secrets.token_urlsafe(32)
            ExchangeCode.objects.create(
                code_hash=token_digest(code),
                binding_hash=flow.binding_hash,  # the frontend trades it in the same browser
                user=user,
                provider=flow.provider,
                expires_at=now + timedelta(seconds=EXCHANGE_CODE_TTL_SECONDS),
            )
            return CallbackAnswer(code=code)
    except IntegrityError:
        # Two callbacks for the same new identity or address at once: the other one won.
        raise CallbackRefused("account_exists") from None
