"""TOTP for a signed-in user: set up (a pending secret), confirmed by a first code (on, with ten
recovery codes), turned off; recovery codes made again; and the staff's reset."""

import uuid
from dataclasses import dataclass
from datetime import datetime

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.client import ClientInfo
from accounts.flows.password import user_password_confirm
from accounts.models import EmailToken, User
from accounts.signals import EventType
from mfa import totp
from mfa.exceptions import InvalidCode, MfaAlreadyOn, MfaNotOn
from mfa.flows.codes import code_accept, code_of_user_accept, with_code_budget
from mfa.models import MfaChallenge, RecoveryCode, TOTPDevice
from mfa.sealing import secret_seal
from mfa.selectors import totp_is_on

RECOVERY_CODE_COUNT = 10


@dataclass(frozen=True)
class TotpEnrolment:
    secret: str
    otpauth_uri: str
    qr_svg: str

    @classmethod
    def of(cls, secret: str, *, user: User) -> "TotpEnrolment":
        """What an authenticator app needs: the secret, as text and as a QR code."""
        uri = totp.provisioning_uri(secret, email=user.email, issuer=settings.TOTP_ISSUER)
        return cls(secret=secret, otpauth_uri=uri, qr_svg=totp.qr_svg(uri))


async def totp_setup(*, user: User) -> TotpEnrolment:
    """A new pending secret, replacing an unconfirmed one; 409 once TOTP is on."""
    return await sync_to_async(_totp_setup)(user=user)


def _totp_setup(*, user: User) -> TotpEnrolment:
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
    return TotpEnrolment.of(secret, user=user)


async def totp_confirm(*, user: User, code: str, client: ClientInfo) -> list[str]:
    """Turn TOTP on with a first code; the ten recovery codes, shown this once."""
    return await with_code_budget(
        user_id=user.pk,
        client=client,
        check=lambda: sync_to_async(_totp_confirm)(user=user, code=code, client=client),
    )


def _totp_confirm(*, user: User, code: str, client: ClientInfo) -> list[str] | None:
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
        codes = _recovery_codes_replace(user_id=user.pk, now=now)
        client.event(EventType.MFA_ENABLED, user_id=user.pk)
        return codes


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
        check=lambda: sync_to_async(_totp_disable)(user=user, code=code, client=client),
    )


def _totp_disable(*, user: User, code: str, client: ClientInfo) -> bool | None:
    now = timezone.now()
    with transaction.atomic():
        method = code_of_user_accept(user=user, code=code, client=client, now=now, during="disable")
        if method is None:
            return None
        _mfa_remove(user_id=user.pk)
        client.event(EventType.MFA_DISABLED, user_id=user.pk, detail={"method": method})
        return True


async def recovery_codes_regenerate(*, user: User, code: str, client: ClientInfo) -> list[str]:
    """Ten new recovery codes, the old ones dead, for a code (TOTP or recovery)."""
    return await with_code_budget(
        user_id=user.pk,
        client=client,
        check=lambda: sync_to_async(_recovery_codes_regenerate)(
            user=user, code=code, client=client
        ),
    )


def _recovery_codes_regenerate(*, user: User, code: str, client: ClientInfo) -> list[str] | None:
    now = timezone.now()
    with transaction.atomic():
        method = code_of_user_accept(
            user=user, code=code, client=client, now=now, during="recovery_codes"
        )
        if method is None:
            return None
        codes = _recovery_codes_replace(user_id=user.pk, now=now)
        client.event(
            EventType.RECOVERY_CODES_REGENERATED, user_id=user.pk, detail={"method": method}
        )
        return codes


def _recovery_codes_replace(*, user_id: uuid.UUID, now: datetime) -> list[str]:
    """Ten new codes, the old ones gone. Call inside a transaction."""
    RecoveryCode.objects.filter(user_id=user_id).delete()
    codes = [totp.recovery_code_new() for _ in range(RECOVERY_CODE_COUNT)]
    RecoveryCode.objects.bulk_create(
        RecoveryCode(user_id=user_id, code_hash=totp.recovery_code_hash(code), created_at=now)
        for code in codes
    )
    return codes


def mfa_reset_by_staff(*, user_id: uuid.UUID, staff_id: object, client: ClientInfo) -> bool:
    """The admin's reset: every trace of the second factor gone, recorded as admin_action."""
    with transaction.atomic():
        if not TOTPDevice.objects.filter(user_id=user_id).exists():
            return False
        _mfa_remove(user_id=user_id)
        client.event(
            EventType.ADMIN_ACTION,
            user_id=user_id,
            detail={"action": "mfa_reset", "staff_id": str(staff_id)},
        )
        return True


def mfa_of_unverified_remove(user: User) -> dict[str, int]:
    """accounts.unverified asks it when the owner of an unverified address proves it: the
    authenticator (on or pending) was set up by someone who never did."""
    return _mfa_remove(user_id=user.pk)


def _mfa_remove(*, user_id: uuid.UUID) -> dict[str, int]:
    """Every trace of the second factor; call inside a transaction."""
    devices, _ = TOTPDevice.objects.filter(user_id=user_id).delete()
    codes, _ = RecoveryCode.objects.filter(user_id=user_id).delete()
    MfaChallenge.objects.filter(user_id=user_id).delete()
    return {"authenticator(s)": devices, "recovery code(s)": codes}
