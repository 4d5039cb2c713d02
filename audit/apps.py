"""The audit app: security events of each account, recorded with the change they describe."""

from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "audit"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from accounts.maintenance import purger_register
        from accounts.signals import auth_event
        from audit.receivers import auth_event_store
        from audit.services import auth_events_purge_expired

        # Sync and strong: it runs in the sender's transaction (see accounts.signals).
        auth_event.connect(auth_event_store, dispatch_uid="audit.auth_event_store")
        purger_register(auth_events_purge_expired)
