"""Logs as operators search them: one JSON object a line from every logger, a request id on
every line written while serving a request, one access line per request written by the service,
security events with a stable `event` field, and no secrets."""

import json

import httpx
import pytest

from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgresql]


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
    server = serve_factory(LOG_FORMAT="json", RATE_LIMITS="on", RATE_LIMIT_SIGNUP="1/h")
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
