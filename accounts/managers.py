"""The user manager: email is the login, stored lowercased."""

from typing import TYPE_CHECKING, Any

from django.contrib.auth.base_user import BaseUserManager

if TYPE_CHECKING:
    from accounts.models import User


def normalize_email(email: str) -> str:
    """The one canonical form of an email: trimmed and lowercased, local part included."""
    return email.strip().lower()


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def get_by_natural_key(self, username: str | None) -> "User":
        # Admin login and createsuperuser look users up here: match any letter case.
        return self.get(email=normalize_email(username or ""))

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> "User":
        if not email:
            raise ValueError("Users must have an email address.")
        user = self.model(email=normalize_email(email), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    async def acreate_user(self, email: str, password: str | None = None, **extra: Any) -> "User":
        """Create a user without hashing on the event loop (the hash runs on the hasher pool)."""
        from accounts.hashing import password_hash

        encoded = await password_hash(password)
        user = self.model(email=normalize_email(email), password=encoded, **extra)
        await user.asave(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> "User":
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        if not extra["is_staff"] or not extra["is_superuser"]:
            raise ValueError("A superuser must have is_staff=True and is_superuser=True.")
        return self.create_user(email, password, **extra)
