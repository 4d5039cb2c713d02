"""manage.py healthcheck: exit 0 when ready, 1 when not, within seconds (container probes)."""

import asyncio
from typing import Any

from django.core.management.base import BaseCommand

from health.checks import readiness


class Command(BaseCommand):
    help = "Check the database answers and no migration is pending; exit 1 otherwise."
    requires_system_checks: list[str] = []
    requires_migrations_checks = False

    def handle(self, *args: Any, **options: Any) -> None:
        report = asyncio.run(readiness(diagnose=True))
        if not report.ready:
            self.stderr.write(f"Not ready: {report.reason}")
            raise SystemExit(1)
        self.stdout.write("Ready")
