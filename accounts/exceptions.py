"""Domain errors raised by the accounts services; `accounts.api` maps each to a status."""


class AccountsError(Exception):
    """Base class; the message is the one human sentence the client sees."""

    detail = "Request refused"

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(detail or self.detail)
        self.detail = detail or self.detail


class EmailAlreadyRegistered(AccountsError):
    detail = "Email already registered"


class InvalidCredentials(AccountsError):
    detail = "Invalid email or password"


class InvalidRefreshToken(AccountsError):
    detail = "Invalid or expired refresh token"


class NotAuthenticated(AccountsError):
    detail = "Not authenticated"


class CurrentPasswordIncorrect(AccountsError):
    detail = "Current password is incorrect"


class WeakPassword(AccountsError):
    """Django's password validators refused; `errors` is [(code, message), ...]."""

    detail = "Password is too weak"

    def __init__(self, errors: list[tuple[str, str]], field: str = "password") -> None:
        super().__init__()
        self.errors = errors
        self.field = field


class HasherOverloaded(AccountsError):
    detail = "Too many password operations in progress, retry shortly"
    retry_after = 1


class Throttled(AccountsError):
    detail = "Too many requests, retry later"

    def __init__(self, retry_after: int) -> None:
        super().__init__()
        self.retry_after = max(1, retry_after)
