"""The social app: sign-in with another provider (OpenID Connect, GitHub), linked identities."""

from django.apps import AppConfig


class SocialConfig(AppConfig):
    name = "social"
    verbose_name = "Sign-in with another provider"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from accounts.emails import email_kind_register
        from accounts.maintenance import purger_register
        from accounts.personal_data import eraser_register, export_part_register
        from accounts.signin_methods import signin_method_counter_register
        from accounts.unverified import unverified_credential_remover_register
        from social.flows.identities import (
            identities_count,
            identities_erase,
            identities_exported,
            identities_of_user_delete,
            social_purge_expired,
        )
        from social.flows.linking import IDENTITY_LINKED_NOTICE

        signin_method_counter_register(identities_count)
        purger_register(social_purge_expired)
        export_part_register(identities_exported)
        eraser_register(identities_erase)
        email_kind_register(kind=IDENTITY_LINKED_NOTICE, folder="social/email/identity_linked")
        unverified_credential_remover_register(identities_of_user_delete)
