"""What a worker does when it starts serving and when it stops, registered with toolkit.lifecycle
(which the server's lifespan runs): the start-up report, the metrics chores, closing the pool."""

import logging

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

from health import checks
from project import metrics
from toolkit import lifecycle

# The server's start-up lines, under the log's name they have always had.
logger = logging.getLogger("project.server")


async def startup_report() -> None:
    """The configuration in effect, and whether the database is ready (when it is not, asked of
    PostgreSQL itself, whose answer the pool's timeout would hide)."""
    logger.info("Environment: %s", settings.ENVIRONMENT)
    logger.info("CORS Origins: %s", settings.CORS_ALLOWED_ORIGINS)
    logger.info("Database: %s", settings.DATABASE.label)
    for warning in settings.CONFIGURATION_WARNINGS:
        logger.warning(warning)
    report = await checks.readiness(diagnose=True)
    if report.ready:
        logger.info("Database initialized successfully")
    else:
        logger.error("Database not ready: %s", report.reason)


def database_pool_close_sync() -> None:
    connection = connections[DEFAULT_DB_ALIAS]
    connection.close()
    close_pool = getattr(connection, "close_pool", None)
    if close_pool is not None:
        close_pool()


async def database_pool_close() -> None:
    await sync_to_async(database_pool_close_sync, thread_sensitive=False)()


def lifespan_register(metrics_directory: str) -> None:
    """Once per process, by project.asgi, with the directory of this worker's metric values
    (server.metrics_directory). Shutdown runs in the reverse order: this worker's gauges leave
    the metrics, then the pool closes its connections."""
    lifecycle.on_startup(startup_report)
    lifecycle.on_shutdown(database_pool_close)
    if settings.METRICS_TOKEN:
        chores = metrics.WorkerChores(metrics_directory)
        lifecycle.on_startup(chores.started)
        lifecycle.on_shutdown(chores.stopping)
