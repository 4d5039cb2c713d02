"""manage.py normalize_emails [--apply]: stored emails to UserManager.normalize_email's form."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.managers import email_renormalisation_apply, email_renormalisation_plan
from accounts.models import User


class Command(BaseCommand):
    help = (
        "Show (or with --apply, make) the changes that bring every stored email to its canonical "
        "form (NFKC, case-folded, IDNA domain). Rows whose canonical form several rows share are "
        "collisions: listed, never changed, and the command exits with status 1 until a person "
        "resolves them (e.g. deactivates or renames one account in the admin)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--apply", action="store_true", help="Rewrite the rows that collide with no other."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        plan = email_renormalisation_plan(User.objects.values_list("pk", "email").iterator())
        verb = "Rewrote" if options["apply"] else "Would rewrite"
        collisions = dict(plan.collisions)
        if options["apply"]:
            for canonical in email_renormalisation_apply(User, plan):
                collisions[canonical] = []  # taken by a row written meanwhile
        for _, stored, canonical in plan.changes:
            if canonical not in collisions:
                self.stdout.write(f"{verb}: {stored!r} -> {canonical!r}")
        rewritten = sum(1 for _, _, canonical in plan.changes if canonical not in collisions)
        self.stdout.write(f"{verb} {rewritten} email(s).")
        for canonical, holders in collisions.items():
            stored = ", ".join(f"{email!r} (user {pk})" for pk, email in holders)
            self.stdout.write(f"Collision on {canonical!r}: {stored or 'a row added meanwhile'}")
        if collisions:
            raise CommandError(
                f"{len(collisions)} canonical email(s) are shared by several accounts: "
                f"resolve them by hand, then run this command again."
            )
