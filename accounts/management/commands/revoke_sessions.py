"""manage.py revoke_sessions --email EMAIL: sign a user out everywhere."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.managers import UserManager
from accounts.models import RevokedReason, User


class Command(BaseCommand):
    help = "Revoke every live session of one user (their access and refresh tokens stop working)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--email", required=True, help="The user's email, any letter case.")

    def handle(self, *args: Any, **options: Any) -> None:
        email = UserManager.normalize_email(options["email"])
        user = User.objects.filter(email=email).first()
        if user is None:
            raise CommandError(f"No user with email {email!r}.")
        count = user.auth_sessions.revoke(reason=RevokedReason.ADMIN)
        self.stdout.write(f"Revoked {count} session(s) of {email}.")
