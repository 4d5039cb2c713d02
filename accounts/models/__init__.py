"""accounts' models, one module per kind: users, sign-in sessions and their refresh tokens,
what is sent by email (link tokens, sign-in codes), and throttle counters."""

from accounts.models.email import EmailCode, EmailToken, EmailTokenPurpose
from accounts.models.sessions import AuthSession, RefreshToken
from accounts.models.throttles import ThrottleCounter
from accounts.models.users import EMAIL_MAX_LENGTH, PasswordWrite, RevokedReason, User

__all__ = [
    "EMAIL_MAX_LENGTH",
    "AuthSession",
    "EmailCode",
    "EmailToken",
    "EmailTokenPurpose",
    "PasswordWrite",
    "RefreshToken",
    "RevokedReason",
    "ThrottleCounter",
    "User",
]
