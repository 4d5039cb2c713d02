"""The fast path as a Django app, so that its system checks run with `manage.py check`."""

from django.apps import AppConfig


class FastPathConfig(AppConfig):
    name = "fastpath"
    verbose_name = "Fast path"

    def ready(self) -> None:
        from fastpath import checks  # noqa: F401  # registers the checks
