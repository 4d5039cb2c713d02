"""The admin login's second factor: staff with TOTP on answer a code before Django's login(),
with the API sign-in's challenge, budgets and replay rules; staff without TOTP set it up first
when ADMIN_REQUIRE_MFA asks for it (mfa.views serves the pages)."""

from django.db import transaction
from django.utils import timezone

from accounts.client import ClientInfo
from accounts.models import User
from accounts.second_factor import ChallengeRequest
from mfa.models import MfaChallenge, TOTPDevice
from mfa.sealing import secret_open
from mfa.services import (
    TotpEnrolment,
    challenge_answer,
    challenge_is_live,
    challenge_verify,
    enrolment_of,
    signin_challenge,
    totp_setup_sync,
)
from toolkit.tokens import token_digest

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


def admin_code_answer_sync(*, challenge_id: int, code: str, client: ClientInfo) -> User | None:
    with transaction.atomic():
        answered = challenge_answer(
            challenge_id=challenge_id,
            code=code,
            client=client,
            now=timezone.now(),
            during="admin_login",
        )
        return None if answered is None else answered[0]


async def admin_code_verify(*, token: str, code: str, client: ClientInfo) -> User:
    """The staff member whose challenge `code` answers (TOTP, newer than the last accepted
    step, or an unused recovery code, spent); InvalidChallengeCode for a wrong code or a dead
    challenge, Throttled beyond the code budgets."""
    return await challenge_verify(
        token=token,
        client=client,
        answer=lambda challenge_id: admin_code_answer_sync(
            challenge_id=challenge_id, code=code, client=client
        ),
    )


def admin_challenge_is_live(*, token: str) -> bool:
    """Whether the challenge can still be answered (not used, expired or out of tries)."""
    challenge = MfaChallenge.objects.filter(token_hash=token_digest(token)).first()
    return challenge is not None and challenge_is_live(challenge, timezone.now())


def admin_totp_setup_start(*, user: User) -> None:
    """A new pending secret for a staff member who must set TOTP up (MfaAlreadyOn if it is on)."""
    totp_setup_sync(user=user)


def admin_totp_pending(*, user: User) -> TotpEnrolment | None:
    """The pending secret again, for the page that shows it and asks for its first code; None
    when there is none (reset meanwhile, or confirmed)."""
    device = TOTPDevice.objects.pending().filter(user_id=user.pk).first()
    return None if device is None else enrolment_of(secret_open(device.secret_sealed), user=user)
