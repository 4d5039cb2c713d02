"""Who the provider says signed in: an OpenID Connect provider through its ID token (and
userinfo when the token carries no email), GitHub through its API (social.github)."""

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from social.exceptions import CallbackRefused, InvalidIdToken
from social.id_tokens import id_token_claims, id_token_header
from social.providers import http_json, provider_keys, provider_metadata
from toolkit.identity_providers import IdentityProviderConfig


@dataclass(frozen=True)
class ProviderProfile:
    issuer: str
    subject: str
    email: str | None
    email_verified: bool
    expires_at: int = 0  # the ID token's `exp` (native apps' replay guard)


async def id_token_verify(
    provider: IdentityProviderConfig,
    token: str,
    *,
    audiences: Collection[str],
    nonce: str | None,
) -> dict[str, Any]:
    """The claims of a valid ID token of `provider` (social.id_tokens); the provider's keys
    are fetched again when the token names a key they lack."""
    kid = id_token_header(token).get("kid")
    metadata = await provider_metadata(provider)
    keys = await provider_keys(provider, kid=kid if isinstance(kid, str) else None)
    return id_token_claims(
        token,
        keys=keys,
        algorithms=metadata.algorithms,
        issuer=provider.issuer,
        audiences=audiences,
        nonce=nonce,
    )


def profile_from_claims(claims: dict[str, Any]) -> ProviderProfile:
    email = claims.get("email")
    return ProviderProfile(
        issuer=str(claims["iss"]),
        subject=str(claims["sub"]),
        email=email if isinstance(email, str) and email else None,
        email_verified=claims.get("email_verified") is True,
        expires_at=int(claims["exp"]),
    )


async def oidc_profile(
    provider: IdentityProviderConfig, *, code: str, redirect_uri: str, verifier: str, nonce: str
) -> ProviderProfile:
    """Trade the authorization code (with the PKCE verifier) for tokens, and check the ID token."""
    metadata = await provider_metadata(provider)
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "code_verifier": verifier,
    }
    auth: tuple[str, str] | None = (provider.client_id, provider.client_secret)
    if "client_secret_basic" not in metadata.token_auth_methods:
        form |= {"client_id": provider.client_id, "client_secret": provider.client_secret}
        auth = None
    answer = await http_json(
        "POST",
        metadata.token_endpoint,
        data=form,
        auth=auth,
        headers={"Accept": "application/json"},
    )
    if "error" in answer:
        raise CallbackRefused(
            "invalid_grant" if answer["error"] == "invalid_grant" else "provider_error"
        )
    token = answer.get("id_token")
    if not isinstance(token, str):
        raise InvalidIdToken
    claims = await id_token_verify(provider, token, audiences=[provider.client_id], nonce=nonce)
    profile = profile_from_claims(claims)
    access_token = answer.get("access_token")
    if profile.email is None and metadata.userinfo_endpoint and isinstance(access_token, str):
        profile = await userinfo_profile(metadata.userinfo_endpoint, access_token, profile)
    return profile


async def userinfo_profile(
    endpoint: str, access_token: str, profile: ProviderProfile
) -> ProviderProfile:
    """The email from userinfo, for a provider that keeps scope claims out of the ID token."""
    info = await http_json("GET", endpoint, headers={"Authorization": f"Bearer {access_token}"})
    if info.get("sub") != profile.subject:  # Core 1.0, section 5.3.2
        raise InvalidIdToken
    email = info.get("email")
    return ProviderProfile(
        issuer=profile.issuer,
        subject=profile.subject,
        email=email if isinstance(email, str) and email else None,
        email_verified=info.get("email_verified") is True,
        expires_at=profile.expires_at,
    )
