"""Password validation: Django's AUTH_PASSWORD_VALIDATORS as a list of problems, and a length
cap that Django does not ship."""

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError


def password_problems(password: str, *, email: str) -> list[tuple[str, str]]:
    """Every (code, message) Django's validators raise; the length cap first, so that a huge
    input costs nothing more."""
    from accounts.models import User

    problems: list[tuple[str, str]] = []
    user = User(email=email)  # what the similarity validator compares against
    for validator in password_validation.get_default_password_validators():
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
