"""Logs as operators search them: one JSON object a line from every logger, a request id on
every line written while serving a request, one access line per request written by the service,
security events with a stable `event` field, and no secrets."""

import json

import httpx
import pytest

from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.support.markers import POSTGRESQL

pytestmark = POSTGRESQL


def json_lines(output: str) -> list[dict]:
    lines = [line for line in output.splitlines() if line.strip()]
    entries = []
    for line in lines:
        try:
            entries.append(json.loads(line))
        except json.JSONDecodeError:
            pytest.fail(f"not a JSON line: {line!r}\n\n{output}")
    return entries


def wait_for(server, text: str, timeout: float = 10) -> None:
    import time

    deadline = time.monotonic() + timeout
    while text not in server.output():
        assert time.monotonic() < deadline, server.output()
        time.sleep(0.05)


def test_json_logs_are_one_object_a_line_from_every_logger(serve_factory):
    server = serve_factory(LOG_FORMAT="json", WORKERS="2", timeout=60)
    httpx.get(f"{server.url}/health", headers={"Host": "evil.example"})
    httpx.get(f"{server.url}/api/auth/me", headers={"Host": "evil.example"})  # django.security
    server.stop()
    entries = json_lines(server.output())
    loggers = {entry["logger"] for entry in entries}
    # uvicorn's supervisor and workers, the service's start-up, Django's security logger.
    assert {"uvicorn.error", "project.server", "project.access"} <= loggers, loggers
    assert any(name.startswith("django.security") for name in loggers), loggers
    messages = [entry["message"] for entry in entries]
    assert any("Uvicorn running on" in message for message in messages)
    assert any("Started parent process" in message for message in messages)
    assert any("Application startup complete" in message for message in messages)
    for entry in entries:
        assert {"time", "level", "logger", "message"} <= set(entry)
    security = [e for e in entries if e["logger"].startswith("django.security")]
    assert security[0]["request_id"]
    assert "evil.example/api" not in json.dumps(security)


def test_each_request_gets_one_access_line_with_its_route_and_user_and_no_secrets(serve_factory):
    server = serve_factory(LOG_FORMAT="json")
    email = UserFactory.email()
    signup = httpx.post(
        f"{server.url}/api/auth/signup", json={"email": email, "password": DEFAULT_PASSWORD}
    )
    assert signup.status_code == 201
    session = signup.json()
    me = httpx.get(
        f"{server.url}/api/auth/me?access_token={session['access_token']}",
        headers={"Authorization": f"Bearer {session['access_token']}", "X-Request-ID": "me-1"},
    )
    assert me.headers["x-request-id"] == "me-1"
    wait_for(server, '"request_id":"me-1"')
    server.stop()
    output = server.output()
    for secret in (DEFAULT_PASSWORD, session["access_token"], session["refresh_token"], email):
        assert secret not in output
    entries = json_lines(output)
    access = [entry for entry in entries if entry["logger"] == "project.access"]
    by_id = {entry["request_id"]: entry for entry in access}
    assert by_id["me-1"] == {
        **by_id["me-1"],
        "method": "GET",
        "route": "/api/auth/me",
        "status": 200,
        "client_ip": "127.0.0.1",
        "user_id": session["user"]["id"],
    }
    assert by_id["me-1"]["duration_ms"] > 0
    created = by_id[signup.headers["x-request-id"]]
    assert (created["route"], created["status"]) == ("/api/auth/signup", 201)
    assert created["user_id"] == session["user"]["id"]
    assert len(access) == len(by_id)  # one line per request
    # uvicorn's own access log (raw path, query string and all) is off.
    assert not any(entry["logger"] == "uvicorn.access" for entry in entries)


def test_security_events_have_a_stable_event_field_and_the_request_id(serve_factory):
    server = serve_factory(
        LOG_FORMAT="json", RATE_LIMITS="on", RATE_LIMIT_SIGNUP="1/h", REFRESH_REUSE_GRACE="0"
    )
    first = httpx.post(
        f"{server.url}/api/auth/signup",
        json={"email": UserFactory.email(), "password": DEFAULT_PASSWORD},
    )
    assert first.status_code == 201
    refused = httpx.post(
        f"{server.url}/api/auth/signup",
        json={"email": UserFactory.email(), "password": DEFAULT_PASSWORD},
        headers={"X-Request-ID": "throttled-1"},
    )
    assert refused.status_code == 429
    token = {"refresh_token": first.json()["refresh_token"]}
    assert httpx.post(f"{server.url}/api/auth/refresh", json=token).status_code == 200
    reuse = httpx.post(
        f"{server.url}/api/auth/refresh", json=token, headers={"X-Request-ID": "reuse-1"}
    )
    assert reuse.status_code == 401
    wait_for(server, '"request_id":"reuse-1"')
    server.stop()
    events = {e["event"]: e for e in json_lines(server.output()) if "event" in e}
    assert events["throttle.refused"]["request_id"] == "throttled-1"
    assert events["throttle.refused"]["scope"] == "signup-ip"
    assert events["throttle.refused"]["level"] == "WARNING"
    assert events["refresh_token.reused"]["request_id"] == "reuse-1"
    assert events["refresh_token.reused"]["level"] == "WARNING"
    assert events["user.signed_up"]["user_id"] == first.json()["user"]["id"]


def test_text_log_lines_about_a_request_name_its_id(serve_factory):
    server = serve_factory(LOG_FORMAT="text")
    response = httpx.get(f"{server.url}/health/ready", headers={"X-Request-ID": "ready-42"})
    assert response.status_code == 200
    wait_for(server, "request_id=ready-42")
    line = next(line for line in server.output().splitlines() if "request_id=ready-42" in line)
    assert line.startswith("INFO:     GET /health/ready 200 ")
    assert "client_ip=127.0.0.1" in line
    # Start-up lines keep the old backend's look (no request: no id).
    assert "INFO:     Application startup complete." in server.output().splitlines()


# --- Lines a client cannot forge ------------------------------------------------------------------

FORGED = "INFO:     forged line"


def forged_path(line_break: str) -> str:
    """A session URL whose last segment ends one line and starts another (percent-encoded)."""
    return f"/api/auth/sessions/x{line_break}{FORGED.replace(' ', '%20')}"


def an_access_token() -> str:
    import uuid

    from django.utils import timezone

    from accounts.tokens import access_token_encode

    return access_token_encode(
        user_id=uuid.uuid4(), session_id=uuid.uuid4(), chain_id=uuid.uuid4(), now=timezone.now()
    )


def assert_nothing_forged(output: str) -> None:
    lines = output.splitlines()
    assert not [line for line in lines if line.startswith(FORGED)], output
    # Still there to read, escaped, on the line that named it.
    assert any("x\\nINFO:     forged line" in line for line in lines), output


@pytest.fixture
def text_log():
    """What the text format writes for project.* and django.* while the test runs."""
    import io
    import logging

    from server.log_format import TextFormatter
    from toolkit.request_context import RequestIdFilter

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(TextFormatter(fmt="%(levelprefix)s %(message)s", use_colors=False))
    handler.addFilter(RequestIdFilter())
    # The loggers settings.LOGGING configures that do not propagate to "django".
    names = ("project", "project.access", "django", "django.request", "django.security")
    loggers = [logging.getLogger(name) for name in names]
    for logger in loggers:
        logger.addHandler(handler)
    try:
        yield stream
    finally:
        for logger in loggers:
            logger.removeHandler(handler)


@pytest.mark.parametrize("line_break", ["%0a", "%0d%0a"])
@pytest.mark.parametrize("failure", ["unexpected", "database"])
async def test_a_path_cannot_forge_a_log_line_in_process(
    api, monkeypatch, text_log, line_break, failure
):
    from django.db import OperationalError

    from accounts import selectors

    async def fails(**kwargs):
        raise OperationalError("connection refused") if failure == "database" else KeyError

    monkeypatch.setattr(selectors, "auth_session_get_live", fails)
    response = await api.delete(
        forged_path(line_break), headers={"Authorization": f"Bearer {an_access_token()}"}
    )
    assert response.status_code == (503 if failure == "database" else 500)
    output = text_log.getvalue().replace("\\r\\n", "\\n")
    assert "/api/auth/sessions/<session_id>" in output  # the route, in the message
    assert_nothing_forged(output)


@pytest.mark.parametrize("line_break", ["%0a", "%0d%0a"])
def test_a_path_cannot_forge_a_log_line_of_a_live_server(serve_factory, line_break):
    from tests.support.pgcluster import free_port

    unreachable = f"postgresql://nobody:nothing@127.0.0.1:{free_port()}/accounts"
    server = serve_factory(
        LOG_FORMAT="text",
        TEST_SERVER_DATABASE_URL=unreachable,
        DB_POOL_TIMEOUT="1",
        DB_CONNECT_TIMEOUT="1",
        READINESS_TIMEOUT="1",
    )
    response = httpx.delete(
        server.url + forged_path(line_break),
        headers={"Authorization": f"Bearer {an_access_token()}", "X-Request-ID": "forging"},
        timeout=30,
    )
    assert response.status_code == 503
    wait_for(server, "request_id=forging")
    server.stop()
    assert_nothing_forged(server.output().replace("\\r\\n", "\\n"))


async def test_a_refused_host_cannot_forge_a_log_line(api, text_log):
    response = await api.get("/api/auth/me", headers={"Host": f"evil.example\n{FORGED}\x1b[2J"})
    assert response.status_code == 400
    output = text_log.getvalue()
    assert "Invalid HTTP_HOST header" in output
    assert "\x1b" not in output
    assert not [line for line in output.splitlines() if line.startswith(FORGED)], output


class BlockedStream:
    """Standard error that takes nothing until `release` is set: a stuck log collector."""

    def __init__(self) -> None:
        import threading

        self.release = threading.Event()
        self.lines: list[str] = []

    def write(self, text: str) -> None:
        self.release.wait(10)
        self.lines.append(text)

    def flush(self) -> None:
        pass


def test_a_full_log_queue_drops_and_counts_and_never_blocks_the_caller():
    import logging
    import time

    from server.logging import BackgroundHandler

    stream = BlockedStream()
    handler = BackgroundHandler(log_format="json", queue_size=3, stream=stream)
    logger = logging.getLogger("tests.server.blocked")
    logger.propagate = False
    logger.addHandler(handler)
    try:
        started = time.monotonic()
        for number in range(50):
            logger.warning("line %d", number)
        assert time.monotonic() - started < 1.0  # nobody waited for the stuck writer
        # Three queued, perhaps some more taken by the writer: the rest dropped and counted.
        dropped = handler.dropped
        assert 40 <= dropped <= 47
        stream.release.set()
        deadline = time.monotonic() + 5
        while handler.batches.items:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        logger.warning("after the jam")
        handler.stop()  # drains the queue
    finally:
        logger.removeHandler(handler)
        handler.close()
    entries = [json.loads(line) for line in "".join(stream.lines).splitlines()]
    messages = [entry["message"] for entry in entries]
    notice = f"{dropped} log records dropped: the log queue was full"
    assert messages.count(notice) == 1
    kept = [message for message in messages if message != notice]
    assert kept == [f"line {number}" for number in range(50 - dropped)] + ["after the jam"]


def test_the_writer_writes_a_batch_of_lines_at_once():
    """One write (one system call) for the lines a busy worker logged meanwhile, not one each."""
    import logging
    import time

    from server.logging import WRITE_DELAY, BackgroundHandler

    stream = BlockedStream()
    stream.release.set()
    handler = BackgroundHandler(log_format="json", stream=stream)
    logger = logging.getLogger("tests.server.batched")
    logger.propagate = False
    logger.addHandler(handler)
    try:
        for number in range(200):
            logger.warning("line %d", number)
        time.sleep(WRITE_DELAY * 4)
        assert len(stream.lines) == 1
        assert stream.lines[0].count("\n") == 200
        handler.stop()
    finally:
        logger.removeHandler(handler)
        handler.close()


@pytest.mark.slow
@pytest.mark.parametrize("workers", ["1", "2"])
def test_no_access_line_is_lost_when_sigterm_ends_the_server(serve_factory, workers):
    """Lines are written by a thread of each process: a SIGTERM right after a burst of requests
    still finds every one of them written, in the supervisor and in every worker."""
    import time

    server = serve_factory(LOG_FORMAT="json", WORKERS=workers, timeout=60)
    # Every worker serving (one answering /health is not all of them on a busy machine): a
    # worker still starting when SIGTERM comes has no application to shut down.
    deadline = time.monotonic() + 60
    while server.output().count("Application startup complete.") < int(workers):
        assert time.monotonic() < deadline, server.output()
        time.sleep(0.05)
    ids = [f"burst-{number}" for number in range(300)]
    with httpx.Client(base_url=server.url) as client:
        for request_id in ids:
            response = client.get(
                "/health", headers={"X-Request-ID": request_id, "Connection": "close"}
            )
            assert response.status_code == 200
    server.stop()
    entries = json_lines(server.output())
    logged = [
        entry["request_id"]
        for entry in entries
        if entry["logger"] == "project.access" and entry["request_id"].startswith("burst-")
    ]
    assert sorted(logged) == sorted(ids)
    messages = [entry["message"] for entry in entries]
    assert messages.count("Application shutdown complete.") == int(workers)
