"""The mfa app: a TOTP second factor, recovery codes, and the sign-in's second step."""

from django.apps import AppConfig


class MfaConfig(AppConfig):
    name = "mfa"
    verbose_name = "Two-factor authentication"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from accounts.maintenance import purger_register
        from accounts.second_factor import second_factor_provider_register
        from mfa.services import mfa_challenges_purge_expired, signin_challenge

        second_factor_provider_register(signin_challenge)
        purger_register(mfa_challenges_purge_expired)
