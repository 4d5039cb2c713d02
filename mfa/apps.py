"""The mfa app: a TOTP second factor, recovery codes, and the sign-in's second step."""

from django.apps import AppConfig


class MfaConfig(AppConfig):
    name = "mfa"
    verbose_name = "Two-factor authentication"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from accounts.maintenance import purger_register
        from accounts.personal_data import eraser_register, export_part_register
        from accounts.second_factor import (
            second_factor_code_checker_register,
            second_factor_provider_register,
        )
        from accounts.signals import credentials_changed, user_deactivated
        from accounts.unverified import unverified_credential_remover_register
        from mfa.flows.challenge import mfa_challenges_purge_expired, signin_challenge
        from mfa.flows.codes import reauthentication_code_check
        from mfa.flows.enrolment import mfa_of_unverified_remove
        from mfa.personal_data import mfa_erase, mfa_exported
        from mfa.receivers import challenges_end

        second_factor_provider_register(signin_challenge)
        second_factor_code_checker_register(reauthentication_code_check)
        purger_register(mfa_challenges_purge_expired)
        export_part_register(mfa_exported)
        eraser_register(mfa_erase)
        unverified_credential_remover_register(mfa_of_unverified_remove)
        # Sync and strong: they run in the transaction of the change (see accounts.signals).
        credentials_changed.connect(challenges_end, dispatch_uid="mfa.challenges_end.credentials")
        user_deactivated.connect(challenges_end, dispatch_uid="mfa.challenges_end.deactivated")
