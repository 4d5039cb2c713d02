"""Proofs by a public-key credential (a passkey): how a second step or a re-authentication asks
an app that keeps credentials for options, and for a verdict on what the browser answered.

accounts never imports that app (import-linter forbids it): it registers a `CredentialProver`
here from its AppConfig.ready. With none registered, no user has such a credential.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from accounts.client import ClientInfo
from accounts.models import User

# What a proof is for: a challenge made for one purpose never proves another.
PURPOSE_SECOND_FACTOR = "mfa"
PURPOSE_REAUTHENTICATE = "reauthenticate"


@dataclass(frozen=True)
class CredentialOptions:
    """Options for the browser (WebAuthn JSON), and the token naming their challenge."""

    challenge_token: str
    options: dict[str, Any]


@dataclass(frozen=True)
class CredentialProver:
    # The methods a user can prove with (["webauthn"] when they have a passkey); sync, asked
    # inside the sign-in's transaction.
    methods: Callable[[User], list[str]]
    # Options whose challenge is bound to the user and the purpose (it may throttle the client).
    options: Callable[[User, str, ClientInfo], Awaitable[CredentialOptions]]
    # The verdict on a credential for (user, purpose, credential, challenge token or None,
    # client): how it was made ("passkey"), or None when it proves nothing.
    verify: Callable[[User, str, dict[str, Any], str | None, ClientInfo], Awaitable[str | None]]


provers: list[CredentialProver] = []


def credential_prover_register(prover: CredentialProver) -> None:
    if prover not in provers:
        provers.append(prover)


def credential_methods(user: User) -> list[str]:
    return [method for prover in provers for method in prover.methods(user)]


async def credential_options(
    *, user: User, purpose: str, client: ClientInfo
) -> CredentialOptions | None:
    """The first prover's options, or None when no app keeps credentials."""
    for prover in provers:
        return await prover.options(user, purpose, client)
    return None


async def credential_verify(
    *,
    user: User,
    purpose: str,
    credential: dict[str, Any],
    challenge_token: str | None,
    client: ClientInfo,
) -> str | None:
    for prover in provers:
        method = await prover.verify(user, purpose, credential, challenge_token, client)
        if method is not None:
            return method
    return None
