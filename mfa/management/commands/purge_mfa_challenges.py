"""manage.py purge_mfa_challenges: delete sign-in challenges nobody can answer any more."""

from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from mfa.services import mfa_challenges_purge


class Command(BaseCommand):
    help = "Delete expired and used second-factor challenges. Safe to run at any time."

    def handle(self, *args: Any, **options: Any) -> None:
        deleted = mfa_challenges_purge(now=timezone.now())
        self.stdout.write(f"Purged {deleted} second-factor challenge(s).")
