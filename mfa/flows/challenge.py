"""The sign-in's second step: the challenge a right password earns a user with TOTP on, and its
answer with a code, for a session (the API) or for the admin's login (mfa.flows.admin_login), or
with a passkey (asked of the app that keeps them through accounts.credential_proofs)."""

import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from asgiref.sync import sync_to_async
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.client import ClientInfo
from accounts.credential_proofs import (
    PURPOSE_SECOND_FACTOR,
    credential_methods,
    credential_options,
    credential_verify,
)
from accounts.flows.issue import IssuedSession, auth_session_issue_with_event
from accounts.maintenance import PurgeRequest
from accounts.models import User
from accounts.second_factor import ChallengeRequest, SecondFactorChallenge
from accounts.signals import EventType
from mfa.exceptions import InvalidChallengeCode, InvalidChallengePasskey, InvalidCode
from mfa.flows.codes import Method, code_accept, device_locked, with_code_budget
from mfa.models import MfaChallenge
from mfa.selectors import totp_is_on
from toolkit.batches import batches_delete
from toolkit.tokens import token_digest

CHALLENGE_TTL_SECONDS = 300  # protocol (API.md): the token dies after 5 minutes
CHALLENGE_MAX_FAILURES = 5  # ... or after 5 wrong codes
METHODS = ["totp", "recovery_code"]


def signin_challenge(request: ChallengeRequest) -> SecondFactorChallenge | None:
    """accounts' sign-in asks this inside its transaction, after the right password: one
    indexed query (mfa.selectors.totp_is_on) for a user without TOTP."""
    if not totp_is_on(user_id=request.user.pk):
        return None
    token = secrets.token_urlsafe(32)
    MfaChallenge.objects.create(
        user_id=request.user.pk,
        token_hash=token_digest(token),
        created_at=request.now,
        expires_at=request.now + timedelta(seconds=CHALLENGE_TTL_SECONDS),
    )
    return SecondFactorChallenge(
        token=token,
        methods=[*METHODS, *credential_methods(request.user)],
        expires_in=CHALLENGE_TTL_SECONDS,
    )


async def mfa_verify(*, token: str, code: str, client: ClientInfo) -> IssuedSession:
    """The session for a live challenge and a right code; 401 otherwise. No password here."""
    return await challenge_verify(
        token=token,
        code=code,
        client=client,
        during="signin",
        then=lambda user, method, now: auth_session_issue_with_event(
            user=user, client=client, now=now, method=method
        ),
    )


async def mfa_webauthn_options(*, token: str, client: ClientInfo) -> dict[str, Any]:
    """Passkey options for a live challenge's user (the challenge bound to them and to this
    step); InvalidChallengeCode (401) for a dead challenge."""
    challenge = await sync_to_async(challenge_live_get)(token=token, now=timezone.now())
    if challenge is None:
        raise InvalidChallengeCode
    user = await User.objects.aget(pk=challenge.user_id)
    made = await credential_options(user=user, purpose=PURPOSE_SECOND_FACTOR, client=client)
    if made is None:  # no app keeps passkeys
        raise InvalidChallengeCode
    return made.options


async def mfa_passkey_verify(
    *, token: str, credential: dict[str, Any], client: ClientInfo
) -> IssuedSession:
    """The session for a live challenge answered with one of its user's passkeys;
    InvalidChallengePasskey (401) otherwise, a wrong one counted on the challenge as a wrong
    code is (and recorded as `mfa_failed`)."""
    challenge = await sync_to_async(challenge_live_get)(token=token, now=timezone.now())
    if challenge is None:
        raise InvalidChallengePasskey
    user = await User.objects.aget(pk=challenge.user_id)
    method = await credential_verify(
        user=user,
        purpose=PURPOSE_SECOND_FACTOR,
        credential=credential,
        challenge_token=None,
        client=client,
    )

    def answer() -> IssuedSession | None:
        now = timezone.now()
        with transaction.atomic():
            live = (
                MfaChallenge.objects.select_for_update()
                .select_related("user")
                # the same user: a challenge is never answered for another account
                .filter(pk=challenge.pk, user_id=user.pk)
            ).first()
            if live is None or not challenge_is_live(live, now) or not live.user.is_active:
                raise InvalidChallengePasskey
            if method is None:
                live.failures += 1
                live.save(update_fields=["failures"])
                client.event(EventType.MFA_FAILED, user_id=user.pk, detail={"during": "signin"})
                return None  # committed: the failure counts
            live.used_at = now
            live.save(update_fields=["used_at"])
            return auth_session_issue_with_event(
                user=live.user, client=client, now=now, method=method
            )

    issued = await sync_to_async(answer)()
    if issued is None:
        raise InvalidChallengePasskey
    return issued


async def challenge_verify[T](
    *,
    token: str,
    code: str,
    client: ClientInfo,
    during: str,
    then: Callable[[User, Method, datetime], T],
) -> T:
    """Answer a live challenge with `code`, within the code budgets: `then` (sync, in the
    transaction that used the challenge up) makes the result from its user and how the code
    was made. InvalidChallengeCode (401) for a wrong code or a dead challenge; a wrong code is
    counted on the challenge and recorded as `mfa_failed` (`during` says where)."""
    challenge = await sync_to_async(challenge_live_get)(token=token, now=timezone.now())
    if challenge is None:
        raise InvalidChallengeCode

    def answer() -> T | None:
        now = timezone.now()
        with transaction.atomic():
            answered = _challenge_answer(
                challenge_id=challenge.pk, code=code, client=client, now=now, during=during
            )
            if answered is None:
                return None  # committed: the failure counts
            return then(*answered, now)

    try:
        return await with_code_budget(
            user_id=challenge.user_id, client=client, check=sync_to_async(answer)
        )
    except InvalidCode:
        raise InvalidChallengeCode from None


def _challenge_answer(
    *, challenge_id: int, code: str, client: ClientInfo, now: datetime, during: str
) -> tuple[User, Method] | None:
    """Spend `code` on a live challenge; call inside a transaction. Its user and how the code
    was made (the challenge used up), or None for a wrong code: counted on the challenge and
    recorded as `mfa_failed`, for the caller to commit."""
    challenge = (
        MfaChallenge.objects.select_for_update().select_related("user").filter(pk=challenge_id)
    ).first()
    if challenge is None or not challenge_is_live(challenge, now):
        raise InvalidChallengeCode
    user = challenge.user
    if not user.is_active:
        raise InvalidChallengeCode
    device = device_locked(user_id=user.pk)
    method = code_accept(device=device, user_id=user.pk, code=code, now=now, recovery=True)
    if method is None:
        challenge.failures += 1
        challenge.save(update_fields=["failures"])
        client.event(EventType.MFA_FAILED, user_id=user.pk, detail={"during": during})
        return None
    challenge.used_at = now
    challenge.save(update_fields=["used_at"])
    return user, method


def challenge_live_get(*, token: str, now: datetime) -> MfaChallenge | None:
    """The challenge of `token`, if it can still be answered at `now`."""
    challenge = MfaChallenge.objects.filter(token_hash=token_digest(token)).first()
    return challenge if challenge is not None and challenge_is_live(challenge, now) else None


def challenge_is_live(challenge: MfaChallenge, now: datetime) -> bool:
    """Not used, not expired, and not out of tries."""
    return (
        challenge.used_at is None
        and challenge.expires_at > now
        and challenge.failures < CHALLENGE_MAX_FAILURES
    )


def mfa_challenges_purge_expired(request: PurgeRequest) -> dict[str, int]:
    """manage.py purge's share: expired or used challenges, which nothing can answer any more."""
    deleted, _ = batches_delete(
        MfaChallenge.objects.filter(Q(expires_at__lte=request.now) | Q(used_at__isnull=False)),
        batch_size=request.batch_size,
    )
    return {"second-factor challenge(s)": deleted}
