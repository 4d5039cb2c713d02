"""The accounts app: users, login sessions, throttles."""

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from accounts import hashing
        from accounts.flows.deletion import users_erase_due
        from accounts.flows.email_code import email_codes_purge_expired
        from accounts.maintenance import accounts_purge, purger_register

        purger_register(accounts_purge)
        purger_register(email_codes_purge_expired)
        purger_register(users_erase_due)  # accounts past their deletion grace

        # Sized now, so that a memory budget too small for one hash stops the start-up with one
        # sentence rather than failing the first sign-up.
        hashing.hasher_pool()
