"""Domain errors of sign-in with another provider. Those of the callback carry the `reason` the
browser is sent back with (`?error=<reason>`); the API's routes answer them as any AccountsError."""

from accounts.exceptions import AccountsError, Unauthorized


class ProviderNotFound(AccountsError):
    status = 404
    detail = "Unknown provider"


class CallbackRefused(Exception):
    """The callback ends in a redirect to the frontend with `?error=<reason>`."""

    reason = "server_error"

    def __init__(self, reason: str | None = None) -> None:
        super().__init__(reason or self.reason)
        self.reason = reason or self.reason


class ProviderUnavailable(CallbackRefused):
    """The provider did not answer, or answered something unusable (discovery, keys, token)."""

    reason = "provider_unavailable"


class InvalidIdToken(CallbackRefused):
    """An ID token (or GitHub's answer) that fails a check."""

    reason = "invalid_token"


class InvalidState(CallbackRefused):
    """Unknown, expired or used state, or a browser without the flow's binding cookie."""

    reason = "invalid_state"


class InvalidIdTokenRefusal(Unauthorized):
    """POST /api/auth/providers/{id}/token: whatever failed, one answer."""

    detail = "Invalid ID token"
    challenge = 'Bearer error="invalid_token"'


class InvalidExchangeCode(AccountsError):
    detail = "Invalid or expired code"


class IdentityNotFound(AccountsError):
    status = 404
    detail = "Identity not found"


class LastSigninMethod(AccountsError):
    status = 409
    detail = "This is your only way to sign in"


class ProviderUnreachable(AccountsError):
    """The provider's discovery or keys could not be fetched (an API route's answer)."""

    status = 503
    detail = "The provider is not reachable, retry later"
    retry_after = 5


class AccountExists(AccountsError):
    """A native app's provider sign-in for an address an account has, that cannot be linked."""

    status = 409
    detail = "An account has this email: sign in with it, then link the provider"
