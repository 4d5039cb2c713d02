"""Domain errors of the accounts journeys (accounts.flows), and the base every app's domain
errors share: each says its HTTP status and the one sentence its client sees, and project.api
answers them all alike."""


class AccountsError(Exception):
    """The base: `detail` is the one human sentence the client sees, `status` the answer's."""

    status = 400
    detail = "Request refused"

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(detail or self.detail)
        self.detail = detail or self.detail


class Unauthorized(AccountsError):
    """401: answered with `WWW-Authenticate` (RFC 6750), `challenge` being its value."""

    status = 401
    challenge = "Bearer"


class InvalidCredentials(Unauthorized):
    detail = "Invalid email or password"


class InvalidRefreshToken(Unauthorized):
    detail = "Invalid or expired refresh token"
    challenge = 'Bearer error="invalid_token"'


class NotAuthenticated(Unauthorized):
    """No bearer token came with the request."""

    detail = "Not authenticated"


class AccessTokenRefused(NotAuthenticated):
    """A bearer token came, and it is malformed, expired, forged or its session is dead."""

    detail = "Invalid or expired token"
    challenge = 'Bearer error="invalid_token"'


class ReauthenticationRequired(Unauthorized):
    """The session is not fresh enough for a dangerous action (RFC 9470's step-up answer)."""

    detail = "Re-authentication required"
    challenge = 'Bearer error="insufficient_user_authentication"'


class InvalidReauthentication(Unauthorized):
    detail = "Invalid credentials"


class CsrfFailed(AccountsError):
    """A cookie-authenticated request without `X-Auth-Transport: cookie` or from an origin the
    API does not serve (accounts.transport.csrf_ensure)."""

    status = 403
    detail = "CSRF check failed"


class CurrentPasswordIncorrect(AccountsError):
    detail = "Current password is incorrect"


class InvalidEmailToken(AccountsError):
    """A link's token that is unknown, expired, used, or for another purpose or address."""

    detail = "Invalid or expired token"


class InvalidEmailCode(AccountsError):
    """A sign-in code that is wrong, expired, used, out of tries, or for no account."""

    detail = "Invalid or expired code"


class EmailNotVerified(AccountsError):
    """REQUIRE_VERIFIED_EMAIL is on and the user has not followed a verification link."""

    status = 403
    detail = "Email not verified"


class EmailVerificationRequired(AccountsError):
    """A credential besides the password (a second factor, a passkey, a linked identity) asked
    for on an account whose address nobody has proven yet (User.credential_addition_ensure)."""

    status = 403
    detail = "Verify your email address first"


class SessionNotFound(AccountsError):
    """Unknown, revoked, expired or another user's: one answer, so ids reveal nothing."""

    status = 404
    detail = "Session not found"


class EmailAlreadyRegistered(AccountsError):
    status = 409
    detail = "Email already registered"


class WeakPassword(AccountsError):
    """Django's password validators refused; `errors` is [(code, message), ...], answered as a
    FastAPI-shaped 422 by project.api."""

    status = 422
    detail = "Password is too weak"

    def __init__(self, errors: list[tuple[str, str]], field: str = "password") -> None:
        super().__init__()
        self.errors = errors
        self.field = field


class ThrottleStoreUnavailable(AccountsError):
    """Redis (REDIS_URL) did not answer: a request a throttle must count is refused, since an
    uncounted password guess is what the throttles exist to prevent (503, Retry-After)."""

    status = 503
    detail = "Service temporarily unavailable: the throttle store is not reachable"
    retry_after = 5


class Throttled(AccountsError):
    status = 429
    detail = "Too many requests, retry later"

    def __init__(self, retry_after: int) -> None:
        super().__init__()
        self.retry_after = max(1, retry_after)


class HasherOverloaded(AccountsError):
    status = 503
    detail = "Too many password operations in progress, retry shortly"
    retry_after = 1
