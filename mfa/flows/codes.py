"""A code, TOTP or recovery: the check that spends it, the budgets a wrong one spends, and the
device lock every check takes."""

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Literal

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.client import ClientInfo
from accounts.models import User
from accounts.signals import EventType
from accounts.throttles import Budget, budgets_spend
from mfa import totp
from mfa.exceptions import InvalidCode, MfaNotOn
from mfa.models import RecoveryCode, TOTPDevice
from mfa.sealing import secret_open

Method = Literal["totp", "recovery_code"]


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


def code_of_user_accept(
    *, user: User, code: str, client: ClientInfo, now: datetime, during: str
) -> Method | None:
    """Spend a code (TOTP or recovery) of a signed-in user whose TOTP is on (MfaNotOn when it
    is not); a wrong one records `mfa_failed` and answers None. Call inside a transaction."""
    device = device_locked(user_id=user.pk)
    if device is None:
        raise MfaNotOn
    method = code_accept(device=device, user_id=user.pk, code=code, now=now, recovery=True)
    if method is None:
        client.event(EventType.MFA_FAILED, user_id=user.pk, detail={"during": during})
    return method


async def reauthentication_code_check(user: User, code: str, client: ClientInfo) -> str | None:
    """A code proving who a signed-in user is again (POST /api/auth/reauthenticate, through
    accounts.second_factor): spent when right, against the code budgets; None when wrong or
    when the user has no TOTP."""

    def check() -> str | None:
        with transaction.atomic():
            try:
                return code_of_user_accept(
                    user=user, code=code, client=client, now=timezone.now(), during="reauthenticate"
                )
            except MfaNotOn:
                return None

    return await budgets_spend(code_budgets(user.pk, client.ip), sync_to_async(check))


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
