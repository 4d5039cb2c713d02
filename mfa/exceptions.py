"""Domain errors of the second factor (on accounts' base: project.api answers them alike)."""

from accounts.exceptions import AccountsError, Unauthorized


class InvalidCode(AccountsError):
    """A wrong, replayed or malformed code where the caller is signed in: 400."""

    detail = "Invalid code"


class InvalidChallengeCode(Unauthorized):
    """The sign-in's second step failed (wrong code, or a dead mfa_token): 401."""

    detail = "Invalid code"


class InvalidChallengePasskey(Unauthorized):
    """The sign-in's second step answered with a passkey that does not verify: 401."""

    detail = "Invalid passkey"


class MfaAlreadyOn(AccountsError):
    status = 409
    detail = "Two-factor authentication is already on"


class MfaNotOn(AccountsError):
    detail = "Two-factor authentication is not on"
