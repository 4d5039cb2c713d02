"""The providers of sign-in with another provider, read from the environment once (SOCIAL_*)."""

import ipaddress
import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

from toolkit.env import env_choice, env_list, env_str

ProviderKind = Literal["oidc", "github"]
PROVIDER_ID = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
GITHUB_ISSUER = "https://github.com"
DEFAULT_SCOPES = {"oidc": "openid email profile", "github": "read:user user:email"}


@dataclass(frozen=True)
class IdentityProviderConfig:
    """One provider: `client_ids[0]` is the web client of the browser flow; native apps' ID
    tokens may name any of them as their audience."""

    id: str
    kind: ProviderKind
    name: str
    issuer: str
    client_ids: tuple[str, ...]
    client_secret: str
    scopes: str

    @property
    def client_id(self) -> str:
        return self.client_ids[0]


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def url_allowed(url: str, *, production: bool) -> bool:
    """https, or plain http to a loopback host outside production (a provider run by a test or a
    developer on this machine)."""
    parts = urlsplit(url)
    if not parts.hostname:
        return False
    if parts.scheme == "https":
        return True
    return parts.scheme == "http" and not production and is_loopback(parts.hostname)


def identity_providers_from_env(
    name: str, *, production: bool
) -> tuple[IdentityProviderConfig, ...]:
    """`SOCIAL_PROVIDERS=google,acme`, then for each id `SOCIAL_<ID>_ISSUER`, `_CLIENT_ID` (a
    comma-separated list: the web client first), `_CLIENT_SECRET`, and optionally `_NAME`,
    `_SCOPES`, `_KIND` (`oidc` or `github`)."""
    providers: list[IdentityProviderConfig] = []
    for provider_id in env_list(name):
        if not PROVIDER_ID.match(provider_id) or provider_id in (p.id for p in providers):
            raise ImproperlyConfigured(
                f"{name} has {provider_id!r}: ids are lowercase letters, digits and _, each once."
            )
        providers.append(provider_from_env(provider_id, production=production))
    return tuple(providers)


def provider_from_env(provider_id: str, *, production: bool) -> IdentityProviderConfig:
    prefix = f"SOCIAL_{provider_id.upper()}_"
    kind: ProviderKind = (
        "github" if env_choice(f"{prefix}KIND", "oidc", ("oidc", "github")) == "github" else "oidc"
    )
    issuer = env_str(f"{prefix}ISSUER", GITHUB_ISSUER if kind == "github" else "")
    if not issuer:
        raise ImproperlyConfigured(f"{prefix}ISSUER is required for provider {provider_id!r}.")
    if not url_allowed(issuer, production=production) or urlsplit(issuer).query:
        raise ImproperlyConfigured(
            f"{prefix}ISSUER must be an https:// URL (http:// only for a loopback issuer outside "
            f"production), got {issuer!r}."
        )
    client_ids = tuple(env_list(f"{prefix}CLIENT_ID"))
    secret = env_str(f"{prefix}CLIENT_SECRET")
    for variable, value in ((f"{prefix}CLIENT_ID", client_ids), (f"{prefix}CLIENT_SECRET", secret)):
        if not value:
            raise ImproperlyConfigured(f"{variable} is required for provider {provider_id!r}.")
    scopes = env_str(f"{prefix}SCOPES", DEFAULT_SCOPES[kind])
    if kind == "oidc" and "openid" not in scopes.split():
        raise ImproperlyConfigured(f"{prefix}SCOPES must include openid, got {scopes!r}.")
    default_name = "GitHub" if kind == "github" else provider_id.replace("_", " ").title()
    return IdentityProviderConfig(
        id=provider_id,
        kind=kind,
        name=env_str(f"{prefix}NAME", default_name),
        issuer=issuer,
        client_ids=client_ids,
        client_secret=secret,
        scopes=scopes,
    )
