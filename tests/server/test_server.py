"""uvicorn serving project.asgi: startup log, workers, a dead or empty database, shutdown."""

import re
import time

import httpx
import pytest
from django.conf import settings

from tests.support.pgcluster import free_port

pytestmark = pytest.mark.django_db(transaction=True)

STARTUP_LINES = [
    "INFO:     Starting application...",
    "INFO:     Environment: test",
    "INFO:     CORS Origins: ['http://localhost:3000']",
    "INFO:     Database initialized successfully",
    "INFO:     Application startup complete.",
]


def ordered_in(lines: list[str], text: str) -> bool:
    position = 0
    for line in lines:
        position = text.find(line, position)
        if position < 0:
            return False
    return True


def test_startup_log_matches_the_old_backend(live_server_factory):
    server = live_server_factory()
    assert ordered_in(STARTUP_LINES, server.output()), server.output()
    assert "Traceback" not in server.output()
    response = httpx.get(f"{server.url}/health")
    assert response.text == '{"status":"healthy","environment":"test"}'


def test_two_workers_each_start_and_serve(live_server_factory):
    server = live_server_factory("--workers", "2", timeout=60)
    deadline = time.monotonic() + 30
    while server.output().count("Database initialized successfully") < 2:
        assert time.monotonic() < deadline, server.output()
        time.sleep(0.2)
    assert httpx.get(f"{server.url}/health/ready").status_code == 200


def dead_database_url() -> str:
    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        return "sqlite:////nonexistent-directory/for/sure/db.sqlite3"
    return f"postgresql://someone:sup3r-s3cret-pw@127.0.0.1:{free_port()}/nothing"


def test_server_starts_with_the_database_down_and_says_why(live_server_factory):
    server = live_server_factory(
        TEST_SERVER_DATABASE_URL=dead_database_url(), DB_CONNECT_TIMEOUT="2", DB_POOL_TIMEOUT="1"
    )
    log = server.output()
    assert "Application startup complete." in log
    not_ready = [line for line in log.splitlines() if "Database not ready" in line]
    assert len(not_ready) == 1, log
    assert "the database is unreachable" in not_ready[0]
    assert "sup3r-s3cret-pw" not in log
    assert "Traceback" not in log
    assert httpx.get(f"{server.url}/health").status_code == 200
    started = time.monotonic()
    ready = httpx.get(f"{server.url}/health/ready", timeout=30)
    assert ready.status_code == 503
    assert time.monotonic() - started < 3 * settings.READINESS_TIMEOUT + 1
    assert ready.json()["status"] == "fail"
    assert "sup3r-s3cret-pw" not in ready.text
    signup = httpx.post(
        f"{server.url}/api/auth/signup",
        json={"email": "down@example.com", "password": "correct horse battery"},
        timeout=30,
    )
    assert signup.status_code == 503
    assert signup.headers["retry-after"]
    assert set(signup.json()) == {"detail"}


@pytest.mark.postgresql
def test_pending_migrations_make_the_server_not_ready(live_server_factory):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("DROP DATABASE IF EXISTS unmigrated")
        cursor.execute("CREATE DATABASE unmigrated")
    db = settings.DATABASES["default"]
    url = f"postgresql://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/unmigrated"
    server = live_server_factory(TEST_SERVER_DATABASE_URL=url)
    try:
        log = server.output()
        assert re.search(r"Database not ready: \d+ migration\(s\) are not applied", log), log
        ready = httpx.get(f"{server.url}/health/ready")
        assert ready.status_code == 503
        pending = ready.json()["checks"]["migrations:pending"][0]
        assert pending["status"] == "fail" and pending["observedValue"] > 0
    finally:
        server.stop()
        with connection.cursor() as cursor:
            cursor.execute("DROP DATABASE unmigrated WITH (FORCE)")


def test_configuration_error_stops_uvicorn_with_one_line(live_server_factory):
    server = live_server_factory(
        wait_ready=False, TEST_SERVER_DATABASE_URL="mysql://root:hunter2@db/app"
    )
    assert server.process is not None
    assert server.process.wait(timeout=30) != 0
    log = server.output()
    assert "Configuration error: DATABASE_URL has the unsupported scheme 'mysql'" in log
    assert "hunter2" not in log
    assert "Traceback" not in log
