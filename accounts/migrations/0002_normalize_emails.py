"""Bring stored emails to normalize_email's canonical form, safely: only rows whose canonical
form no other row has are rewritten; collisions stay as they are, are printed, and are left for
`manage.py normalize_emails` (which lists them until a person resolves them)."""

from typing import Any

from django.db import migrations


def renormalise(apps: Any, schema_editor: Any) -> None:
    from accounts.managers import email_renormalisation_apply, email_renormalisation_plan

    user_model = apps.get_model("accounts", "User")
    plan = email_renormalisation_plan(user_model.objects.values_list("pk", "email").iterator())
    taken = email_renormalisation_apply(user_model, plan)
    unresolved = len(plan.collisions) + len(taken)
    if unresolved:
        print(  # noqa: T201 - migrate's own output is the place an operator sees this
            f"\n  {unresolved} email collision(s) left unchanged: run manage.py normalize_emails."
        )


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]

    operations = [migrations.RunPython(renormalise, migrations.RunPython.noop, elidable=True)]
