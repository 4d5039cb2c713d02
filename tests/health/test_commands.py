"""manage.py healthcheck, for container health checks."""

import time

import pytest

from tests.conftest import subprocess_database_url
from tests.support.commands import run_manage
from tests.support.pgcluster import free_port

pytestmark = pytest.mark.django_db(transaction=True)


def test_healthcheck_passes_on_a_migrated_database():
    result = run_manage("healthcheck", DATABASE_URL=subprocess_database_url())
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "Ready"


def test_healthcheck_fails_fast_when_the_database_is_unreachable():
    started = time.monotonic()
    result = run_manage(
        "healthcheck",
        DATABASE_URL=f"postgresql://app:t0p-secret@127.0.0.1:{free_port()}/app",
        DB_CONNECT_TIMEOUT="2",
    )
    assert result.returncode == 1
    assert time.monotonic() - started < 20
    assert result.stderr.startswith("Not ready: the database is unreachable")
    assert "Connection refused" in result.stderr
    assert "t0p-secret" not in result.stderr + result.stdout
