"""Password validation: Django's AUTH_PASSWORD_VALIDATORS as a list of problems, and a length
cap that Django does not ship."""

from asgiref.sync import sync_to_async
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError


def password_problems(password: str, *, email: str, offline: bool = False) -> list[tuple[str, str]]:
    """Every (code, message) Django's validators raise; the length cap first, so that a huge
    input costs nothing more. Validators that ask a network service (`needs_network`, as the
    breached-password check) run only once every other validator is satisfied, and never when
    `offline`. They block: call this from async code through `password_problems_off_loop`."""
    from accounts.models import User

    problems: list[tuple[str, str]] = []
    user = User(email=email)  # what the similarity validator compares against
    validators = password_validation.get_default_password_validators()
    local = [v for v in validators if not getattr(v, "needs_network", False)]
    remote = [v for v in validators if getattr(v, "needs_network", False)]
    for validator in local if offline else [*local, *remote]:
        if validator in remote and problems:
            break
        try:
            validator.validate(password, user)
        except ValidationError as error:
            problems.extend((e.code or "password_invalid", e.messages[0]) for e in error.error_list)
            if any(code == "password_too_long" for code, _ in problems):
                break
    return problems


class MaximumLengthValidator:
    """Refuse very long passwords before any other validator or the hasher spends time on them."""

    def __init__(self, max_length: int = 128) -> None:
        self.max_length = max_length

    def validate(self, password: str, user: object = None) -> None:
        if len(password) > self.max_length:
            raise ValidationError(
                f"This password is too long. It must contain at most {self.max_length} characters.",
                code="password_too_long",
                params={"max_length": self.max_length},
            )

    def get_help_text(self) -> str:
        return f"Your password must contain at most {self.max_length} characters."


async def password_problems_off_loop(password: str, *, email: str) -> list[tuple[str, str]]:
    """password_problems on a thread of its own: never on the event loop (a network validator
    waits seconds), nor on the thread that serves the database (thread_sensitive), which every
    request shares."""
    return await sync_to_async(password_problems, thread_sensitive=False)(password, email=email)
