"""Domain errors of passkeys (on accounts' base: project.api answers them alike)."""

from accounts.exceptions import AccountsError, Unauthorized


class InvalidPasskeyRegistration(AccountsError):
    """A registration that does not verify, or whose challenge is dead: 400."""

    detail = "Invalid passkey"


class InvalidPasskey(Unauthorized):
    """An assertion that does not verify, for an unknown or another user's passkey, or whose
    challenge is dead: 401."""

    detail = "Invalid passkey"


class PasskeyNotFound(AccountsError):
    """Unknown or another user's: one answer."""

    status = 404
    detail = "Passkey not found"


class PasskeyLimitReached(AccountsError):
    status = 409
    detail = "Too many passkeys: remove one first"


class LastWayIn(AccountsError):
    """The passkey is the account's only way to sign in (no usable password, no other passkey,
    no linked identity): 409."""

    status = 409
    detail = "This is your only way to sign in"
