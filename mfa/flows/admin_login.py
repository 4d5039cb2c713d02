"""The admin login's second factor: staff with TOTP on answer a code before Django's login(),
with the API sign-in's challenge, budgets and replay rules; staff without TOTP set it up first
when ADMIN_REQUIRE_MFA asks for it (mfa.views serves the pages, and calls
mfa.flows.enrolment for the setup)."""

from django.db import transaction
from django.utils import timezone

from accounts.client import ClientInfo
from accounts.models import User
from accounts.second_factor import ChallengeRequest
from mfa.flows.challenge import challenge_live_get, challenge_verify, signin_challenge
from mfa.flows.enrolment import TotpEnrolment
from mfa.models import TOTPDevice
from mfa.sealing import secret_open

# Setting an authenticator up takes longer than typing a code: the half-done login of a staff
# member without TOTP lives this long (one with TOTP: the challenge's five minutes).
SETUP_TTL_SECONDS = 600


def admin_challenge_start(*, user: User, client: ClientInfo) -> str | None:
    """After the right password: the token of a new challenge for a staff member with TOTP on
    (kept in their Django session, never sent to the browser); None without TOTP."""
    with transaction.atomic():
        challenge = signin_challenge(
            ChallengeRequest(
                user=user, ip=client.ip, user_agent=client.user_agent, now=timezone.now()
            )
        )
    return None if challenge is None else challenge.token


async def admin_code_verify(*, token: str, code: str, client: ClientInfo) -> User:
    """The staff member whose challenge `code` answers (TOTP, newer than the last accepted
    step, or an unused recovery code, spent); InvalidChallengeCode for a wrong code or a dead
    challenge, Throttled beyond the code budgets."""
    return await challenge_verify(
        token=token,
        code=code,
        client=client,
        during="admin_login",
        then=lambda user, method, now: user,
    )


def admin_challenge_is_live(*, token: str) -> bool:
    """Whether the challenge can still be answered (not used, expired or out of tries)."""
    return challenge_live_get(token=token, now=timezone.now()) is not None


def admin_totp_pending(*, user: User) -> TotpEnrolment | None:
    """The pending secret again, for the page that shows it and asks for its first code; None
    when there is none (reset meanwhile, or confirmed)."""
    device = TOTPDevice.objects.pending().filter(user_id=user.pk).first()
    return (
        None if device is None else TotpEnrolment.of(secret_open(device.secret_sealed), user=user)
    )
