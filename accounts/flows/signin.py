"""Sign-in with email and password: a session, or the second factor's challenge first."""

import logging
from datetime import datetime

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts import selectors
from accounts.client import ClientInfo
from accounts.exceptions import InvalidCredentials
from accounts.flows.email_links import email_verification_send_again
from accounts.flows.issue import IssuedSession, auth_session_issue_with_event, email_verified_ensure
from accounts.flows.password import password_guess
from accounts.hashing import hasher_capacity_ensure, password_verify, password_verify_dummy
from accounts.managers import UserManager
from accounts.models import User
from accounts.second_factor import ChallengeRequest, SecondFactorChallenge, second_factor_challenge
from accounts.signals import EventType
from accounts.throttles import throttle_hit

logger = logging.getLogger("accounts")


async def user_signin(
    *, email: str, password: str, client: ClientInfo
) -> IssuedSession | SecondFactorChallenge:
    """The session, or, for a user with a second factor, the challenge to answer first. The
    password is hashed here once; the second factor's step never hashes it again."""
    email = UserManager.normalize_email(email)
    await throttle_hit("signin-ip", client.ip, settings.RATE_LIMIT_SIGNIN)
    hasher_capacity_ensure()
    user = await selectors.user_get_by_email(email=email)

    async def verify() -> bool:
        if user is None or not user.is_active or not user.has_usable_password():
            # Same work as a real check, so unknown and known emails take the same time.
            await password_verify_dummy(password)
            return False
        return await password_verify(password, user.password)

    verified = await password_guess(email=email, ip=client.ip, verify=verify)
    if not verified or user is None:
        # The email is never logged; whose account was guessed at is the throttles' business.
        logger.info("Sign-in refused: wrong email or password", extra={"event": "signin.failed"})
    if user is None:
        raise InvalidCredentials
    if not verified:
        # Only for a known email: an unknown one has no account to record it on.
        await sync_to_async(client.event_alone)(EventType.SIGNIN_FAILED, user_id=user.pk)
        raise InvalidCredentials
    if settings.REQUIRE_VERIFIED_EMAIL and not user.email_verified:
        # The right password: the owner, who may have lost the first link.
        await email_verification_send_again(user=user)
    email_verified_ensure(user)
    return await sync_to_async(_signin_complete)(user=user, client=client, now=timezone.now())


def _signin_complete(
    *, user: User, client: ClientInfo, now: datetime
) -> IssuedSession | SecondFactorChallenge:
    """After the right password: a second factor's challenge when one is required (asked in
    the same transaction, so no extra round trip), else the session and its event."""
    with transaction.atomic():
        challenge = second_factor_challenge(
            ChallengeRequest(user=user, ip=client.ip, user_agent=client.user_agent, now=now)
        )
        if challenge is not None:
            return challenge
        return auth_session_issue_with_event(user=user, client=client, now=now, method="password")
