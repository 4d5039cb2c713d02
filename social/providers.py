"""The configured providers (settings.SOCIAL_PROVIDERS) and what is fetched from them: OpenID
discovery metadata and signing keys, over HTTPS (plain HTTP for a loopback issuer outside
production), cached in the process, keys fetched again for an unknown `kid`. Fetched with httpx's
async client: no request waits on the event loop for another's provider."""

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
from django.conf import settings
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from social.exceptions import ProviderNotFound, ProviderUnavailable
from toolkit.identity_providers import IdentityProviderConfig, url_allowed

logger = logging.getLogger("social")
HTTP_TIMEOUT = 5.0
METADATA_MAX_AGE = 3600.0  # seconds a provider's discovery document is trusted
KEYS_REFETCH_INTERVAL = 60.0  # an unknown `kid` fetches the keys again at most this often
# Signature algorithms with a public key: never `none`, never HMAC (whose "key" would be public).
ASYMMETRIC_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)


@dataclass(frozen=True)
class ProviderMetadata:
    """What the browser flow and the ID token checks need from the discovery document."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    algorithms: frozenset[str]
    token_auth_methods: tuple[str, ...]
    userinfo_endpoint: str | None
    # RFC 9207: the provider says it sends `iss` with every authorization response.
    iss_parameter_supported: bool


@dataclass
class ProviderState:
    """What one process knows of one provider."""

    metadata: ProviderMetadata | None = None
    metadata_at: float = 0.0
    keys: KeySet | None = None
    keys_at: float = 0.0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


states: dict[str, ProviderState] = {}


def provider_get(provider_id: str) -> IdentityProviderConfig:
    for provider in settings.SOCIAL_PROVIDERS:
        if provider.id == provider_id:
            return provider
    raise ProviderNotFound


def providers_all() -> tuple[IdentityProviderConfig, ...]:
    return tuple(settings.SOCIAL_PROVIDERS)


def provider_state(provider: IdentityProviderConfig) -> ProviderState:
    # Keyed by issuer too: tests (and a reload) may point the same id at another provider.
    key = f"{provider.id} {provider.issuer}"
    if key not in states:
        states[key] = ProviderState()
    return states[key]


async def http_json(method: str, url: str, *, wrap_list: bool = False, **kwargs: Any) -> Any:
    """A JSON object from a provider (`wrap_list`: an array, as {"items": [...]});
    ProviderUnavailable for anything else (never a 500)."""
    if not url_allowed(url, production=settings.IS_PRODUCTION):
        logger.warning("Provider URL refused (not https): %s", url)
        raise ProviderUnavailable
    try:
        async with httpx.AsyncClient(timeout=HTTP_TIMEOUT, follow_redirects=False) as client:
            response = await client.request(method, url, **kwargs)
        answer = response.json()
    except (httpx.HTTPError, ValueError) as error:
        logger.warning("Provider request failed: %s %s: %s", method, url, error)
        raise ProviderUnavailable from None
    if wrap_list and isinstance(answer, list) and response.status_code == 200:
        return {"items": answer}
    if not isinstance(answer, dict):
        raise ProviderUnavailable
    if response.status_code >= 500 or (response.status_code >= 400 and "error" not in answer):
        logger.warning("Provider answered %s: %s %s", response.status_code, method, url)
        raise ProviderUnavailable
    return answer


def metadata_parse(provider: IdentityProviderConfig, document: dict[str, Any]) -> ProviderMetadata:
    try:
        metadata = ProviderMetadata(
            issuer=str(document["issuer"]),
            authorization_endpoint=str(document["authorization_endpoint"]),
            token_endpoint=str(document["token_endpoint"]),
            jwks_uri=str(document["jwks_uri"]),
            algorithms=frozenset(document.get("id_token_signing_alg_values_supported", ["RS256"]))
            & ASYMMETRIC_ALGORITHMS,
            token_auth_methods=tuple(
                document.get("token_endpoint_auth_methods_supported", ["client_secret_basic"])
            ),
            userinfo_endpoint=document.get("userinfo_endpoint"),
            iss_parameter_supported=document.get("authorization_response_iss_parameter_supported")
            is True,
        )
    except (KeyError, TypeError):
        logger.warning("Provider %s: discovery document incomplete", provider.id)
        raise ProviderUnavailable from None
    if metadata.issuer != provider.issuer:
        # OpenID Connect Discovery 1.0, section 4.3: the document must be the issuer's own.
        logger.warning("Provider %s: discovery names issuer %r", provider.id, metadata.issuer)
        raise ProviderUnavailable
    return metadata


async def provider_metadata(provider: IdentityProviderConfig) -> ProviderMetadata:
    state = provider_state(provider)
    if state.metadata and time.monotonic() - state.metadata_at < METADATA_MAX_AGE:
        return state.metadata
    async with state.lock:
        if state.metadata and time.monotonic() - state.metadata_at < METADATA_MAX_AGE:
            return state.metadata
        return await metadata_unlocked(provider, state)


async def provider_keys(provider: IdentityProviderConfig, *, kid: str | None) -> KeySet:
    """The provider's signing keys; fetched again when `kid` is not among them (a rotation),
    at most once a KEYS_REFETCH_INTERVAL."""
    state = provider_state(provider)
    if state.keys is not None and key_known(state.keys, kid):
        return state.keys
    async with state.lock:
        fresh_enough = time.monotonic() - state.keys_at < KEYS_REFETCH_INTERVAL
        if state.keys is not None and (key_known(state.keys, kid) or fresh_enough):
            return state.keys
        metadata = state.metadata or await metadata_unlocked(provider, state)
        document = await http_json("GET", metadata.jwks_uri)
        try:
            state.keys = KeySet.import_key_set(document)
        except (JoseError, ValueError, TypeError, KeyError):
            logger.warning("Provider %s: unusable JWKS", provider.id)
            raise ProviderUnavailable from None
        state.keys_at = time.monotonic()
        return state.keys


async def metadata_unlocked(
    provider: IdentityProviderConfig, state: ProviderState
) -> ProviderMetadata:
    url = provider.issuer.rstrip("/") + "/.well-known/openid-configuration"
    state.metadata = metadata_parse(provider, await http_json("GET", url))
    state.metadata_at = time.monotonic()
    return state.metadata


def key_known(keys: KeySet, kid: str | None) -> bool:
    if kid is None:
        return True
    return any(key.kid == kid for key in keys.keys)
