"""mfa's share of an account's export and erasure (accounts.personal_data): whether TOTP is on and
how many recovery codes are left, never the secret or a code's hash; and, on erasure, its rows and
the throttle counters of its code budgets (mfa.flows.codes)."""

from accounts.models import User
from accounts.personal_data import Erasure
from accounts.throttles import throttle_counters_forget
from mfa.models import MfaChallenge, RecoveryCode, TOTPDevice
from mfa.selectors import totp_is_on


def mfa_exported(user: User) -> dict[str, object]:
    left = RecoveryCode.objects.filter(user_id=user.pk, used_at__isnull=True).count()
    return {"mfa": {"totp": totp_is_on(user_id=user.pk), "recovery_codes_left": left}}


def mfa_erase(erasure: Erasure) -> dict[str, int]:
    """Deleted here rather than left to the user's cascade, so the purge says how many."""
    user_id = erasure.user.pk
    devices, _ = TOTPDevice.objects.filter(user_id=user_id).delete()
    codes, _ = RecoveryCode.objects.filter(user_id=user_id).delete()
    challenges, _ = MfaChallenge.objects.filter(user_id=user_id).delete()
    budgets = [("mfa-failed-user", str(user_id))]
    budgets += [("mfa-failed-user-ip", f"{user_id} {ip}") for ip in erasure.ips]
    return {
        "authenticator(s)": devices,
        "recovery code(s)": codes,
        "second-factor challenge(s)": challenges,
        "throttle counter(s)": throttle_counters_forget(budgets),
    }
