"""The passkeys app: WebAuthn credentials, and the proofs it offers accounts' journeys."""

from django.apps import AppConfig


class PasskeysConfig(AppConfig):
    name = "passkeys"
    verbose_name = "Passkeys"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from accounts.credential_proofs import CredentialProver, credential_prover_register
        from accounts.emails import email_kind_register
        from accounts.maintenance import purger_register
        from accounts.personal_data import eraser_register, export_part_register
        from accounts.signin_methods import signin_method_counter_register
        from accounts.unverified import unverified_credential_remover_register
        from passkeys.flows.assertion import proof_methods, proof_options, proof_verify
        from passkeys.flows.challenges import passkey_challenges_purge_expired
        from passkeys.flows.personal import (
            passkeys_count,
            passkeys_erase,
            passkeys_exported,
            passkeys_of_user_delete,
        )
        from passkeys.flows.registration import PASSKEY_ADDED_NOTICE

        credential_prover_register(
            CredentialProver(methods=proof_methods, options=proof_options, verify=proof_verify)
        )
        purger_register(passkey_challenges_purge_expired)
        signin_method_counter_register(passkeys_count)
        export_part_register(passkeys_exported)
        eraser_register(passkeys_erase)
        email_kind_register(kind=PASSKEY_ADDED_NOTICE, folder="passkeys/email/passkey_added")
        unverified_credential_remover_register(passkeys_of_user_delete)
