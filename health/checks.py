"""Readiness checks: the database answers in time and no migration is pending."""

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor

from toolkit import lifecycle, metrics

# Health-check draft (draft-inadarei-api-health-check) status words.
PASS = "pass"  # noqa: S105 - a status word, not a password
FAIL = "fail"


class MigrationState:
    """Once every migration is applied, it stays so for the life of this code: cache that."""

    all_applied = False


@dataclass
class ReadinessReport:
    status: str = PASS
    checks: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    reason: str = ""

    @property
    def ready(self) -> bool:
        return self.status == PASS

    def fail(self, reason: str) -> None:
        self.status = FAIL
        self.reason = self.reason or reason

    def as_health_json(self) -> dict[str, Any]:
        return {"status": self.status, "checks": self.checks}


def safe_reason(error: BaseException) -> str:
    """One line describing a database error, with the configured password masked if quoted."""
    text = " ".join(str(error).split()) or type(error).__name__
    password = settings.DATABASES[DEFAULT_DB_ALIAS].get("PASSWORD")
    if password:
        text = text.replace(password, "***")
    return text


def database_ping() -> None:
    connection = connections[DEFAULT_DB_ALIAS]
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    finally:
        # This runs on a pool thread outside any request: hand the connection back now.
        connection.close()


def direct_connection_error() -> str:
    """Why a fresh PostgreSQL connection fails, bypassing the pool (whose timeout hides it)."""
    connection = connections[DEFAULT_DB_ALIAS]
    if connection.vendor != "postgresql":
        return ""
    import psycopg

    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    try:
        psycopg.connect(**params).close()
    except Exception as error:
        return safe_reason(error)
    return ""


def pending_migration_count() -> int:
    if MigrationState.all_applied:
        return 0
    connection = connections[DEFAULT_DB_ALIAS]
    try:
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    finally:
        connection.close()
    MigrationState.all_applied = not plan
    return len(plan)


# Made once (building a SyncToAsync per probe costs as much as the hop). Not thread-sensitive:
# a hung database must not hold the request's ORM thread.
database_ping_off_the_loop = sync_to_async(database_ping, thread_sensitive=False)


async def readiness(*, diagnose: bool = False) -> ReadinessReport:
    """Run every check within READINESS_TIMEOUT; never raises.

    `diagnose` (startup) asks PostgreSQL directly why it refused, for a clear log line.
    """
    report = ReadinessReport()
    timeout = settings.READINESS_TIMEOUT
    started = time.perf_counter()
    try:
        await asyncio.wait_for(database_ping_off_the_loop(), timeout)
        database_status = PASS
    except Exception as error:
        database_status = FAIL
        if isinstance(error, TimeoutError):
            reason = f"no answer within {timeout:g} s"
        else:
            reason = safe_reason(error)
        if diagnose:
            reason = (
                await sync_to_async(direct_connection_error, thread_sensitive=False)() or reason
            )
        report.fail(f"the database is unreachable ({reason})")
    elapsed_ms = round((time.perf_counter() - started) * 1000, 2)
    report.checks["database:responseTime"] = [
        {"status": database_status, "observedValue": elapsed_ms, "observedUnit": "ms"}
    ]

    migrations: dict[str, Any] = {"status": FAIL}
    if database_status == PASS:
        try:
            pending = 0
            if not MigrationState.all_applied:  # no thread hop once known to be all applied
                pending = await asyncio.wait_for(
                    sync_to_async(pending_migration_count, thread_sensitive=False)(), timeout
                )
            migrations = {"status": PASS if pending == 0 else FAIL, "observedValue": pending}
            if pending:
                report.fail(f"{pending} migration(s) are not applied: run manage.py migrate")
        except TimeoutError:
            report.fail("the migration check timed out")
        except Exception as error:
            report.fail(f"the migration check failed ({safe_reason(error)})")
    report.checks["migrations:pending"] = [migrations]

    if lifecycle.draining.is_set():
        report.checks["process:draining"] = [{"status": FAIL, "observedValue": True}]
        report.fail("the server is shutting down")
    for name, results in report.checks.items():
        metrics.READINESS_CHECKS.labels(name, results[0]["status"]).inc()
    return report
