"""The audit app: security events of each account, recorded with the change they describe."""

from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "audit"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from accounts.maintenance import purger_register
        from accounts.personal_data import eraser_register, export_part_register
        from accounts.signals import auth_event
        from audit.receivers import auth_event_store
        from audit.services import (
            auth_events_erase,
            auth_events_exported,
            auth_events_purge_expired,
        )

        # Sync and strong: it runs in the sender's transaction (see accounts.signals).
        auth_event.connect(auth_event_store, dispatch_uid="audit.auth_event_store")
        purger_register(auth_events_purge_expired)
        export_part_register(auth_events_exported)
        eraser_register(auth_events_erase)
