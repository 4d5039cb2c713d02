"""The sign-in's question to a second factor: does this user need one, and what challenge?

accounts never imports the app that provides second factors (import-linter forbids it): that
app registers a provider here from its AppConfig.ready. With no provider, or a provider that
answers None, a right password opens a session as before.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from accounts.client import ClientInfo
from accounts.models import User


@dataclass(frozen=True)
class SecondFactorChallenge:
    """What a sign-in answers instead of a session: the client proves a second factor with it."""

    token: str
    methods: list[str]
    expires_in: int


@dataclass(frozen=True)
class ChallengeRequest:
    user: User
    ip: str | None
    user_agent: str
    now: datetime


# Called inside the sign-in's transaction, after the password was verified.
ChallengeProvider = Callable[[ChallengeRequest], SecondFactorChallenge | None]
providers: list[ChallengeProvider] = []


def second_factor_provider_register(provider: ChallengeProvider) -> None:
    if provider not in providers:
        providers.append(provider)


def second_factor_challenge(request: ChallengeRequest) -> SecondFactorChallenge | None:
    for provider in providers:
        challenge = provider(request)
        if challenge is not None:
            return challenge
    return None


# Re-authentication with a code (POST /api/auth/reauthenticate): the provider spends the code if
# it is right, against its own failure budgets, and answers how ("totp", "recovery_code"), or
# None for a wrong code or a user without the factor.
CodeChecker = Callable[[User, str, ClientInfo], Awaitable[str | None]]
code_checkers: list[CodeChecker] = []


def second_factor_code_checker_register(checker: CodeChecker) -> None:
    if checker not in code_checkers:
        code_checkers.append(checker)


async def second_factor_code_check(*, user: User, code: str, client: ClientInfo) -> str | None:
    for checker in code_checkers:
        method = await checker(user, code, client)
        if method is not None:
            return method
    return None


__all__ = [
    "ChallengeRequest",
    "CodeChecker",
    "SecondFactorChallenge",
    "second_factor_challenge",
    "second_factor_code_check",
    "second_factor_code_checker_register",
    "second_factor_provider_register",
]
