"""Test data: users made through the real manager (hashing included)."""

import itertools

from accounts.models import User

DEFAULT_PASSWORD = "correct horse battery staple"
sequence = itertools.count(1)


class UserFactory:
    async def create(
        self, email: str | None = None, password: str = DEFAULT_PASSWORD, **extra: object
    ) -> User:
        email = email or f"user{next(sequence)}@example.com"
        return await User.objects.acreate_user(email=email, password=password, **extra)

    @staticmethod
    def email() -> str:
        return f"person{next(sequence)}@example.com"
