"""Sessions from a provider: the frontend trading the callback's code, and native apps
presenting the provider's ID token. Either answers the second factor's challenge first for a
user with TOTP, as a password sign-in does."""

from datetime import UTC, datetime, timedelta

from asgiref.sync import sync_to_async
from django.db import transaction
from django.utils import timezone

from accounts.client import ClientInfo
from accounts.flows.issue import IssuedSession, auth_session_issue_with_event, email_verified_ensure
from accounts.models import User
from accounts.second_factor import ChallengeRequest, SecondFactorChallenge, second_factor_challenge
from social.exceptions import (
    AccountExists,
    CallbackRefused,
    InvalidExchangeCode,
    InvalidIdToken,
    InvalidIdTokenRefusal,
    ProviderUnavailable,
    ProviderUnreachable,
)
from social.flows.authorization import binding_matches
from social.flows.linking import identity_user_resolve
from social.models import ExchangeCode, SpentIdToken
from social.profiles import ProviderProfile, id_token_verify, profile_from_claims
from social.providers import provider_get
from toolkit.tokens import token_digest

SignedIn = IssuedSession | SecondFactorChallenge


def session_or_challenge(
    *, user: User, provider_id: str, client: ClientInfo, now: datetime
) -> SignedIn:
    """Inside the caller's transaction, as accounts' password sign-in does."""
    email_verified_ensure(user)
    challenge = second_factor_challenge(
        ChallengeRequest(user=user, ip=client.ip, user_agent=client.user_agent, now=now)
    )
    if challenge is not None:
        return challenge
    return auth_session_issue_with_event(user=user, client=client, now=now, method=provider_id)


async def exchange_code_signin(*, code: str, binding: str | None, client: ClientInfo) -> SignedIn:
    """The callback's code, once, within its minute, from the browser that started the flow
    (`binding`: its binding cookie): a session or the challenge."""
    return await sync_to_async(_exchange)(
        code=code, binding=binding, client=client, now=timezone.now()
    )


def _exchange(*, code: str, binding: str | None, client: ClientInfo, now: datetime) -> SignedIn:
    with transaction.atomic():
        row = (
            ExchangeCode.objects.select_for_update()
            .select_related("user")
            .filter(code_hash=token_digest(code))
            .first()
        )
        if row is None:
            raise InvalidExchangeCode
        # Spent by any attempt, the refused ones too (the refusal below is raised after the
        # commit): a code sent to another browser (login CSRF) is dead for good.
        ExchangeCode.objects.filter(pk=row.pk).delete()
        # Without its flow's binding cookie (none, or another browser's): as a wrong code.
        if (
            binding_matches(binding, row.binding_hash)
            and row.expires_at > now
            and row.user.is_active
        ):
            return session_or_challenge(
                user=row.user, provider_id=row.provider, client=client, now=now
            )
    raise InvalidExchangeCode


async def id_token_signin(
    *, provider_id: str, id_token: str, nonce: str | None, client: ClientInfo
) -> SignedIn:
    """A native app's ID token from the provider, its audience any of the provider's client
    ids; each token (and each nonce) signs in once."""
    provider = provider_get(provider_id)
    if provider.kind != "oidc":
        raise InvalidIdTokenRefusal
    try:
        claims = await id_token_verify(
            provider, id_token, audiences=provider.client_ids, nonce=nonce
        )
    except InvalidIdToken:
        raise InvalidIdTokenRefusal from None
    except ProviderUnavailable:
        raise ProviderUnreachable from None
    profile = profile_from_claims(claims)
    spent = [token_digest(f"id_token:{id_token}")]
    if nonce is not None:
        spent.append(token_digest(f"nonce:{profile.issuer}:{nonce}"))
    return await sync_to_async(_id_token_signin)(
        provider_id=provider.id, profile=profile, spent=spent, client=client, now=timezone.now()
    )


def _id_token_signin(
    *,
    provider_id: str,
    profile: ProviderProfile,
    spent: list[str],
    client: ClientInfo,
    now: datetime,
) -> SignedIn:
    expires_at = max(datetime.fromtimestamp(profile.expires_at, tz=UTC), now + timedelta(minutes=5))
    with transaction.atomic():
        if SpentIdToken.objects.filter(digest__in=spent).exists():
            raise InvalidIdTokenRefusal  # a replay
        SpentIdToken.objects.bulk_create(
            [SpentIdToken(digest=digest, expires_at=expires_at) for digest in spent]
        )
        try:
            user = identity_user_resolve(
                provider_id=provider_id, profile=profile, client=client, now=now
            )
        except CallbackRefused as refused:
            if refused.reason == "account_exists":
                raise AccountExists from None
            raise InvalidIdTokenRefusal from None
        return session_or_challenge(user=user, provider_id=provider_id, client=client, now=now)
