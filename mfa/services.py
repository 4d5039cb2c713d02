"""Writes: TOTP setup, confirmation, disabling, recovery codes, and the sign-in's second step.

Every wrong code spends the code budgets (per user and client address, RATE_LIMIT_MFA_FAILED;
per user, RATE_LIMIT_MFA_FAILED_USER; counted before the check, given back by a right code) and
records `mfa_failed`; each change records its event in its transaction.
"""

import secrets
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.client import ClientInfo
from accounts.flows.issue import IssuedSession, auth_session_issue_with_event
from accounts.flows.password import user_password_confirm
from accounts.maintenance import PurgeRequest
from accounts.models import EmailToken, User
from accounts.second_factor import ChallengeRequest, SecondFactorChallenge
from accounts.signals import EventType
from accounts.throttles import Budget, budgets_spend
from mfa import totp
from mfa.exceptions import InvalidChallengeCode, InvalidCode, MfaAlreadyOn, MfaNotOn
from mfa.models import MfaChallenge, RecoveryCode, TOTPDevice
from mfa.sealing import secret_open, secret_seal
from mfa.selectors import totp_is_on
from toolkit.tokens import token_digest

CHALLENGE_TTL_SECONDS = 300  # protocol (API.md): the token dies after 5 minutes
CHALLENGE_MAX_FAILURES = 5  # ... or after 5 wrong codes
RECOVERY_CODE_COUNT = 10
METHODS = ["totp", "recovery_code"]
Method = Literal["totp", "recovery_code"]


@dataclass(frozen=True)
class TotpEnrolment:
    secret: str
    otpauth_uri: str
    qr_svg: str


def recovery_codes_replace(*, user_id: uuid.UUID, now: datetime) -> list[str]:
    """Ten new codes, the old ones gone. Call inside a transaction."""
    RecoveryCode.objects.filter(user_id=user_id).delete()
    codes = [totp.recovery_code_new() for _ in range(RECOVERY_CODE_COUNT)]
    RecoveryCode.objects.bulk_create(
        RecoveryCode(user_id=user_id, code_hash=totp.recovery_code_hash(code), created_at=now)
        for code in codes
    )
    return codes


def code_accept(
    *, device: TOTPDevice | None, user_id: uuid.UUID, code: str, now: datetime, recovery: bool
) -> Method | None:
    """Spend `code` if it is good: a TOTP code of the window newer than the last accepted one
    (the step is remembered, so it cannot come back), or, with `recovery`, an unused recovery
    code (marked used). Call inside a transaction, the device locked."""
    code = totp.code_normalize(code)
    if device is not None and totp.is_totp_code(code):
        step = totp.matching_step(
            secret_open(device.secret_sealed), code, at=totp.clock(), after=device.last_used_step
        )
        if step is None:
            return None
        device.last_used_step = step
        device.save(update_fields=["last_used_step"])
        return "totp"
    if recovery and not totp.is_totp_code(code):
        spent = RecoveryCode.objects.filter(
            user_id=user_id, code_hash=totp.recovery_code_hash(code), used_at__isnull=True
        ).update(used_at=now)
        return "recovery_code" if spent else None
    return None


def code_budgets(user_id: uuid.UUID, ip: str | None) -> list[Budget]:
    """What a wrong code spends, as a wrong password does: the (user, client address) budget,
    small, so that guessing from one address gets nowhere; and the user's budget from
    everywhere, larger, so that whoever knows the password cannot lock the owner out from one
    address (the owner's right code from another one still works)."""
    return [
        ("mfa-failed-user-ip", f"{user_id} {ip}", settings.RATE_LIMIT_MFA_FAILED),
        ("mfa-failed-user", str(user_id), settings.RATE_LIMIT_MFA_FAILED_USER),
    ]


async def with_code_budget[T](
    *, user_id: uuid.UUID, client: ClientInfo, check: Callable[[], Awaitable[T | None]]
) -> T:
    """Run a code check against the code budgets (429 beyond one, unchecked): counted first,
    given back when right or refused before checking (accounts.throttles.budgets_spend, as
    for passwords); a wrong code (None) is InvalidCode."""
    result = await budgets_spend(code_budgets(user_id, client.ip), check)
    if result is None:
        raise InvalidCode
    return result


def device_locked(*, user_id: uuid.UUID) -> TOTPDevice | None:
    """The user's confirmed device, locked (call inside a transaction); None when TOTP is off."""
    return TOTPDevice.objects.on().select_for_update().filter(user_id=user_id).first()


# --- Enrolment ---------------------------------------------------------------------------------


def totp_setup_sync(*, user: User) -> TotpEnrolment:
    secret = totp.secret_new()
    pending = TOTPDevice(
        user_id=user.pk, secret_sealed=secret_seal(secret), created_at=timezone.now()
    )
    with transaction.atomic():
        # The check and the write under the device's row lock: a setup that overlaps a confirm
        # waits for it and then sees the device on (409), instead of replacing the secret the
        # user's app holds. A first device is inserted before the lock is taken (a concurrent
        # first setup's insert meets the primary key and adds nothing).
        TOTPDevice.objects.bulk_create([pending], ignore_conflicts=True)
        device = TOTPDevice.objects.select_for_update().filter(user_id=user.pk).first()
        if device is None:  # turned off or reset between the insert and the lock
            pending.save(force_insert=True)
        elif device.confirmed_at is not None:
            raise MfaAlreadyOn
        else:
            pending.save(force_update=True)  # replaces an unconfirmed secret, and its step
    return enrolment_of(secret, user=user)


def enrolment_of(secret: str, *, user: User) -> TotpEnrolment:
    uri = totp.provisioning_uri(secret, email=user.email, issuer=settings.TOTP_ISSUER)
    return TotpEnrolment(secret=secret, otpauth_uri=uri, qr_svg=totp.qr_svg(uri))


async def totp_setup(*, user: User) -> TotpEnrolment:
    """A new pending secret, replacing an unconfirmed one; 409 once TOTP is on."""
    return await sync_to_async(totp_setup_sync)(user=user)


def totp_confirm_sync(*, user: User, code: str, client: ClientInfo) -> list[str] | None:
    now = timezone.now()
    with transaction.atomic():
        # Locked whatever its state, then checked: a confirm that waited for another one sees
        # the device on (409) rather than no pending device.
        device = TOTPDevice.objects.select_for_update().filter(user_id=user.pk).first()
        if device is None:
            raise InvalidCode("Start the setup first")
        if device.confirmed_at is not None:
            raise MfaAlreadyOn
        if code_accept(device=device, user_id=user.pk, code=code, now=now, recovery=False) is None:
            client.event(EventType.MFA_FAILED, user_id=user.pk, detail={"during": "confirm"})
            return None
        device.confirmed_at = now
        device.save(update_fields=["confirmed_at"])
        # A stronger sign-in leaves nothing asked for under the weaker one: an address change
        # requested with the password alone (by whoever else knew it) dies here.
        EmailToken.objects.for_user(user).pending().end(now)
        codes = recovery_codes_replace(user_id=user.pk, now=now)
        client.event(EventType.MFA_ENABLED, user_id=user.pk)
        return codes


async def totp_confirm(*, user: User, code: str, client: ClientInfo) -> list[str]:
    """Turn TOTP on with a first code; the ten recovery codes, shown this once."""
    return await with_code_budget(
        user_id=user.pk,
        client=client,
        check=lambda: sync_to_async(totp_confirm_sync)(user=user, code=code, client=client),
    )


def totp_disable_sync(*, user: User, code: str, client: ClientInfo) -> bool | None:
    now = timezone.now()
    with transaction.atomic():
        device = device_locked(user_id=user.pk)
        if device is None:
            raise MfaNotOn
        method = code_accept(device=device, user_id=user.pk, code=code, now=now, recovery=True)
        if method is None:
            client.event(EventType.MFA_FAILED, user_id=user.pk, detail={"during": "disable"})
            return None
        mfa_remove(user_id=user.pk)
        client.event(EventType.MFA_DISABLED, user_id=user.pk, detail={"method": method})
        return True


def mfa_remove(*, user_id: uuid.UUID) -> None:
    """Every trace of the second factor; call inside a transaction."""
    TOTPDevice.objects.filter(user_id=user_id).delete()
    RecoveryCode.objects.filter(user_id=user_id).delete()
    MfaChallenge.objects.filter(user_id=user_id).delete()


async def totp_disable(*, user: User, current_password: str, code: str, client: ClientInfo) -> None:
    """Turn TOTP off: the current password (the sign-in's failure budgets) and a code (TOTP or
    recovery)."""
    if not await sync_to_async(totp_is_on)(user_id=user.pk):
        raise MfaNotOn
    await user_password_confirm(
        user=user, password=current_password, client=client, purpose="mfa_disable"
    )
    await with_code_budget(
        user_id=user.pk,
        client=client,
        check=lambda: sync_to_async(totp_disable_sync)(user=user, code=code, client=client),
    )


def recovery_codes_regenerate_sync(
    *, user: User, code: str, client: ClientInfo
) -> list[str] | None:
    now = timezone.now()
    with transaction.atomic():
        device = device_locked(user_id=user.pk)
        if device is None:
            raise MfaNotOn
        method = code_accept(device=device, user_id=user.pk, code=code, now=now, recovery=True)
        if method is None:
            client.event(EventType.MFA_FAILED, user_id=user.pk, detail={"during": "recovery_codes"})
            return None
        codes = recovery_codes_replace(user_id=user.pk, now=now)
        client.event(
            EventType.RECOVERY_CODES_REGENERATED, user_id=user.pk, detail={"method": method}
        )
        return codes


async def recovery_codes_regenerate(*, user: User, code: str, client: ClientInfo) -> list[str]:
    return await with_code_budget(
        user_id=user.pk,
        client=client,
        check=lambda: sync_to_async(recovery_codes_regenerate_sync)(
            user=user, code=code, client=client
        ),
    )


# --- Sign-in's second step ---------------------------------------------------------------------


def signin_challenge(request: ChallengeRequest) -> SecondFactorChallenge | None:
    """accounts' sign-in asks this inside its transaction, after the right password: one
    indexed query (the device's primary key is the user's) for a user without TOTP."""
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
        token=token, methods=list(METHODS), expires_in=CHALLENGE_TTL_SECONDS
    )


def challenge_is_live(challenge: MfaChallenge, now: datetime) -> bool:
    return (
        challenge.used_at is None
        and challenge.expires_at > now
        and challenge.failures < CHALLENGE_MAX_FAILURES
    )


def challenge_answer(
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


async def challenge_verify[T](
    *, token: str, client: ClientInfo, answer: Callable[[int], T | None]
) -> T:
    """Run `answer` (sync: a live challenge's id to a result, None for a wrong code) within
    the code budgets; InvalidChallengeCode (401) for a wrong code or a dead challenge."""
    challenge = await MfaChallenge.objects.filter(token_hash=token_digest(token)).afirst()
    if challenge is None or not challenge_is_live(challenge, timezone.now()):
        raise InvalidChallengeCode
    try:
        return await with_code_budget(
            user_id=challenge.user_id,
            client=client,
            check=lambda: sync_to_async(answer)(challenge.pk),
        )
    except InvalidCode:
        raise InvalidChallengeCode from None


def mfa_verify_sync(*, challenge_id: int, code: str, client: ClientInfo) -> IssuedSession | None:
    now = timezone.now()
    with transaction.atomic():
        answered = challenge_answer(
            challenge_id=challenge_id, code=code, client=client, now=now, during="signin"
        )
        if answered is None:
            return None  # committed: the failure counts
        user, method = answered
        return auth_session_issue_with_event(
            user=user, client=client, now=now, detail={"mfa": method}
        )


async def mfa_verify(*, token: str, code: str, client: ClientInfo) -> IssuedSession:
    """The session for a live challenge and a right code; 401 otherwise. No password here."""
    return await challenge_verify(
        token=token,
        client=client,
        answer=lambda challenge_id: mfa_verify_sync(
            challenge_id=challenge_id, code=code, client=client
        ),
    )


# --- Staff ---------------------------------------------------------------------------------------


def mfa_reset_by_staff(*, user_id: uuid.UUID, staff_id: object, client: ClientInfo) -> bool:
    """The admin's reset: every trace of the second factor gone, recorded as admin_action."""
    with transaction.atomic():
        if not TOTPDevice.objects.filter(user_id=user_id).exists():
            return False
        mfa_remove(user_id=user_id)
        client.event(
            EventType.ADMIN_ACTION,
            user_id=user_id,
            detail={"action": "mfa_reset", "staff_id": str(staff_id)},
        )
        return True


def mfa_challenges_purge_expired(request: PurgeRequest) -> dict[str, int]:
    """manage.py purge's share: expired or used challenges, which nothing can answer any more."""
    deleted, _ = MfaChallenge.objects.filter(
        Q(expires_at__lte=request.now) | Q(used_at__isnull=False)
    ).delete()
    return {"second-factor challenge(s)": deleted}
