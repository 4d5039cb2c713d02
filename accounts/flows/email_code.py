"""Sign-in by a code sent by email: ask for one (the same answer, in the same time, for any
address), then trade it for a session, or for the second factor's challenge first."""

import hmac
import logging
from datetime import datetime

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts import tasks
from accounts.client import ClientInfo
from accounts.exceptions import InvalidEmailCode
from accounts.flows.issue import IssuedSession, auth_session_issue_with_event
from accounts.maintenance import PurgeRequest
from accounts.managers import UserManager
from accounts.models import EmailCode, User
from accounts.second_factor import ChallengeRequest, SecondFactorChallenge, second_factor_challenge
from accounts.signals import EventType
from accounts.throttles import throttle_hit
from accounts.tokens import email_code_digest, email_code_normalize
from accounts.unverified import unverified_account_take_over
from toolkit.batches import batches_delete

logger = logging.getLogger("accounts")

CODE_MAX_FAILURES = 5  # protocol (API.md): a code is dead after 5 wrong tries
METHOD = "email_code"  # how the sign-in was made, on its event


async def email_code_request(*, email: str, client: ClientInfo) -> None:
    """Count the throttles (per client IP, per address) and enqueue the code's task, and nothing
    else: whether the address has an account is decided by the worker (accounts.tasks.
    email_code_send), so registered and unknown addresses get the same answer in the same time."""
    email = UserManager.normalize_email(email)
    await throttle_hit("email-code-ip", client.ip, settings.RATE_LIMIT_EMAIL_CODE)
    await throttle_hit("email-code-email", email, settings.RATE_LIMIT_EMAIL_CODE_EMAIL)
    await tasks.email_code_send.aenqueue(email=email)


async def email_code_signin(
    *, email: str, code: str, client: ClientInfo
) -> IssuedSession | SecondFactorChallenge:
    """A session for the address's live code, or the second factor's challenge first, exactly
    as a password sign-in. Counted in the sign-in's per-IP throttle first; a wrong code counts
    on the code, which dies after CODE_MAX_FAILURES. The address counts as verified; an account
    that was not is taken over first (accounts.unverified): a session, never a challenge."""
    email = UserManager.normalize_email(email)
    await throttle_hit("signin-ip", client.ip, settings.RATE_LIMIT_SIGNIN)
    answer = await sync_to_async(_email_code_use)(
        email=email, code=email_code_normalize(code), client=client, now=timezone.now()
    )
    if answer is None:
        logger.info("Sign-in refused: wrong or dead email code", extra={"event": "signin.failed"})
        raise InvalidEmailCode
    return answer


def _email_code_use(
    *, email: str, code: str, client: ClientInfo, now: datetime
) -> IssuedSession | SecondFactorChallenge | None:
    """In one transaction: the code checked under its row's lock (concurrent guesses queue up),
    used up, the address verified, and the session or challenge made. None for any refusal; a
    wrong guess at a live code is counted on it and recorded as `signin_failed`, committed."""
    with transaction.atomic():
        found = (
            EmailCode.objects.select_for_update(of=("self",))
            .select_related("user")
            .filter(email=email)
            .first()
        )
        if found is None or not email_code_is_live(found, now):
            return None
        user = found.user
        if not hmac.compare_digest(found.code_hash, email_code_digest(email=email, code=code)):
            found.failures += 1
            found.save(update_fields=["failures"])
            client.event(EventType.SIGNIN_FAILED, user_id=user.pk, detail={"method": METHOD})
            return None
        found.delete()  # single use
        if not user.email_verified:
            # Reading the code proved the mailbox, as following a verification link does; and
            # it signs its reader in, so whoever signed up with the address loses the account
            # (their password, sessions and credentials) before any challenge is asked for.
            User.objects.filter(pk=user.pk).update(email_verified=True)
            user.email_verified = True
            client.event(EventType.EMAIL_VERIFIED, user_id=user.pk, detail={"method": METHOD})
            unverified_account_take_over(
                user=user, method=METHOD, password_set=False, client=client, now=now
            )
        challenge = second_factor_challenge(
            ChallengeRequest(user=user, ip=client.ip, user_agent=client.user_agent, now=now)
        )
        if challenge is not None:
            return challenge
        return auth_session_issue_with_event(user=user, client=client, now=now, method=METHOD)


def email_code_is_live(found: EmailCode, now: datetime) -> bool:
    """Unexpired, not out of tries, and its user active and still holding the address."""
    return (
        found.expires_at > now
        and found.failures < CODE_MAX_FAILURES
        and found.user.is_active
        and found.user.email == found.email
    )


def email_codes_purge_expired(request: PurgeRequest) -> dict[str, int]:
    """manage.py purge's share: codes that can no longer be used (a used one is gone already)."""
    deleted, _ = batches_delete(
        EmailCode.objects.filter(expires_at__lte=request.now), batch_size=request.batch_size
    )
    return {"sign-in code(s)": deleted}
