"""The browser's trip to a provider: the authorization URL (state, nonce, PKCE S256), and the
callback that checks what comes back and sends the browser on to the frontend."""

import base64
import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal
from urllib.parse import urlencode

from asgiref.sync import sync_to_async
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac

from accounts.client import ClientInfo
from accounts.models import User
from social.exceptions import (
    CallbackRefused,
    InvalidState,
    ProviderNotFound,
    ProviderUnavailable,
    ProviderUnreachable,
)
from social.flows.linking import CallbackAnswer, callback_identity_settle
from social.github import github_authorization_endpoint, github_profile
from social.models import AuthorizationFlow
from social.profiles import ProviderProfile, oidc_profile
from social.providers import provider_get, provider_metadata
from toolkit.tokens import token_digest

logger = logging.getLogger("social")
FLOW_TTL_SECONDS = 600  # protocol (API.md): state, nonce and verifier live 10 minutes
Process = Literal["signin", "link"]
PROVIDER_ERRORS = frozenset({"access_denied", "login_required", "consent_required"})


@dataclass(frozen=True)
class AuthorizationStart:
    authorization_url: str
    binding: str  # the binding cookie's value: only this browser may come back


def binding_matches(binding: str | None, binding_hash: str) -> bool:
    """Whether the request's binding cookie is the one the flow was started with."""
    return binding is not None and hmac.compare_digest(token_digest(binding), binding_hash)


def flow_secret(state: str, purpose: str) -> str:
    """The nonce or the PKCE verifier of a flow, derived from its state with the secret key:
    the database keeps neither (64 hex characters, a valid RFC 7636 verifier)."""
    return salted_hmac(f"social.flow.{purpose}", state, algorithm="sha256").hexdigest()


def pkce_challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


async def authorization_start(
    *, provider_id: str, process: Process, user: User | None, redirect_uri: str
) -> AuthorizationStart:
    """Where to send the browser, and the flow kept for its return. `user`: for `link`."""
    provider = provider_get(provider_id)
    try:
        if provider.kind == "github":
            endpoint = github_authorization_endpoint(provider)
        else:
            endpoint = (await provider_metadata(provider)).authorization_endpoint
    except ProviderUnavailable:
        raise ProviderUnreachable from None
    state, binding = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    now = timezone.now()
    await AuthorizationFlow.objects.acreate(
        state_hash=token_digest(state),
        binding_hash=token_digest(binding),
        provider=provider.id,
        process=process,
        user=user,
        redirect_uri=redirect_uri,
        created_at=now,
        expires_at=now + timedelta(seconds=FLOW_TTL_SECONDS),
    )
    parameters = {
        "response_type": "code",
        "client_id": provider.client_id,
        "redirect_uri": redirect_uri,
        "scope": provider.scopes,
        "state": state,
        "code_challenge": pkce_challenge(flow_secret(state, "pkce")),
        "code_challenge_method": "S256",
    }
    if provider.kind == "oidc":
        parameters["nonce"] = flow_secret(state, "nonce")
    separator = "&" if "?" in endpoint else "?"
    return AuthorizationStart(f"{endpoint}{separator}{urlencode(parameters)}", binding)


async def provider_callback(
    *,
    provider_id: str,
    state: str | None,
    code: str | None,
    iss: str | None,
    error: str | None,
    binding: str | None,
    client: ClientInfo,
) -> CallbackAnswer:
    """Check the provider's answer against the flow it belongs to; a refusal of any kind is an
    `error` reason for the frontend (the browser is never shown JSON here)."""
    try:
        return await callback_complete(
            provider_id=provider_id,
            state=state,
            code=code,
            iss=iss,
            error=error,
            binding=binding,
            client=client,
        )
    except CallbackRefused as refused:
        logger.info(
            "Provider callback refused: %s", refused.reason, extra={"event": "social.refused"}
        )
        return CallbackAnswer(error=refused.reason)
    except ProviderNotFound:
        return CallbackAnswer(error="unknown_provider")
    except Exception:
        # A browser on its way back gets a page of the frontend, never a 500 (nor JSON).
        logger.exception("Provider callback failed")
        return CallbackAnswer(error="server_error")


async def callback_complete(
    *,
    provider_id: str,
    state: str | None,
    code: str | None,
    iss: str | None,
    error: str | None,
    binding: str | None,
    client: ClientInfo,
) -> CallbackAnswer:
    provider = provider_get(provider_id)
    flow = await flow_claim(state=state, now=timezone.now()) if state else None
    if flow is None or flow.provider != provider.id:
        raise InvalidState
    if not binding_matches(binding, flow.binding_hash):
        raise InvalidState  # another browser: whoever started the flow must finish it
    if error:
        raise CallbackRefused(error if error in PROVIDER_ERRORS else "provider_error")
    assert state is not None  # noqa: S101  # a flow was found by it
    if iss is not None and iss != provider.issuer:
        raise CallbackRefused("invalid_issuer")  # RFC 9207: a mix-up attack
    if not code:
        raise CallbackRefused("invalid_request")
    profile = await callback_profile(provider_id, state=state, code=code, iss=iss, flow=flow)
    return await sync_to_async(callback_identity_settle)(
        flow=flow, profile=profile, client=client, now=timezone.now()
    )


async def callback_profile(
    provider_id: str, *, state: str, code: str, iss: str | None, flow: AuthorizationFlow
) -> ProviderProfile:
    provider = provider_get(provider_id)
    verifier = flow_secret(state, "pkce")
    if provider.kind == "github":
        return await github_profile(
            provider, code=code, redirect_uri=flow.redirect_uri, verifier=verifier
        )
    metadata = await provider_metadata(provider)
    if iss is None and metadata.iss_parameter_supported:
        raise CallbackRefused("invalid_issuer")  # RFC 9207, section 2.4
    return await oidc_profile(
        provider,
        code=code,
        redirect_uri=flow.redirect_uri,
        verifier=verifier,
        nonce=flow_secret(state, "nonce"),
    )


@sync_to_async
def flow_claim(*, state: str, now: datetime) -> AuthorizationFlow | None:
    """The live flow of `state`, deleted as it is read: a second callback finds nothing."""
    with transaction.atomic():
        flow = (
            AuthorizationFlow.objects.select_for_update()
            .filter(state_hash=token_digest(state))
            .first()
        )
        if flow is None:
            return None
        flow.delete()
    return flow if flow.expires_at > now else None
