"""accounts' models, one module per kind: users, sign-in sessions with their refresh-token
chains and tokens, what is sent by email (link tokens, sign-in codes), and throttle counters."""

from accounts.models.email import EmailCode, EmailToken, EmailTokenPurpose
from accounts.models.sessions import AuthSession, RefreshToken, RefreshTokenChain
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
    "RefreshTokenChain",
    "RevokedReason",
    "ThrottleCounter",
    "User",
]
