"""Email through the real parts: a uvicorn server that only enqueues (TASKS_BACKEND=database), the
real `manage.py db_worker` consuming the queue from the test PostgreSQL, and an aiosmtpd server
that requires STARTTLS and AUTH. The whole journey, an outage of the mail server, and the reset
request's answer and timing for registered and unknown addresses."""

import os
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from django_tasks_db.models import DBTaskResult

from accounts.models import User
from tests.conftest import ROOT, missing_tool, server_environment
from tests.factories import DEFAULT_PASSWORD
from tests.support.mail import parts, token_in
from tests.support.markers import LIVE

pytestmark = [*LIVE, pytest.mark.slow]
NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture(scope="module")
def mail_server(django_db_setup, tmp_path_factory):
    try:
        from tests.support.mailserver import MailServer
    except ImportError:
        missing_tool("aiosmtpd (make install-dev)")
    try:
        server = MailServer(tmp_path_factory.mktemp("smtp")).start()
    except RuntimeError as error:
        missing_tool(str(error))
    yield server
    server.stop()


@contextmanager
def db_worker(mail_server, log: Path) -> Iterator[Path]:
    """`manage.py db_worker` on the test database, sending to the test mail server; retries
    half a second apart (doubling) instead of production's 30 s. Yields its log file."""
    env = server_environment(
        TASKS_BACKEND="database", EMAIL_RETRY_DELAY="0.5", **mail_server.environment()
    )
    process = subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "db_worker",
            "--interval",
            "0.1",
            "--no-startup-delay",
            "--no-reload",
        ],
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    time.sleep(1)
    assert process.poll() is None, log.read_text()
    try:
        yield log
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture(scope="module")
def worker(mail_server, tmp_path_factory) -> Iterator[Path]:
    with db_worker(mail_server, tmp_path_factory.mktemp("worker") / "worker.log") as log:
        yield log


@pytest.fixture(scope="module")
def server(module_live_server, worker):
    """The API server: it only enqueues (nothing in it talks to the mail server)."""
    return module_live_server(TASKS_BACKEND="database")


@pytest.fixture
def api(server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"{server.url}/api/auth", timeout=15) as client:
        yield client


def bearer(session: dict) -> dict[str, str]:
    return {"Authorization": f"Bearer {session['access_token']}"}


def link_token(received) -> str:
    found = parts(received.message)
    token = token_in(found["text/plain"])
    assert token_in(found["text/html"]) == token
    return token


def test_signup_verify_reset_and_sign_in_the_whole_way(api, server, mail_server, worker):
    email = "journey@example.com"
    first = api.post("/signup", json={"email": email, "password": DEFAULT_PASSWORD})
    assert first.status_code == 201
    first = first.json()

    verification = mail_server.wait_for(email, "Confirm your email address")
    assert verification.over_tls and verification.login == b"mailer"
    assert verification.mail_from == "accounts@example.com"
    verify_token = link_token(verification)
    assert api.post("/email/verify", json={"token": verify_token}).status_code == 200
    assert api.get("/me", headers=bearer(first)).json()["email_verified"] is True

    second = api.post("/signin", json={"email": email, "password": DEFAULT_PASSWORD}).json()
    assert api.post("/password/reset", json={"email": email}).status_code == 202
    reset_token = link_token(mail_server.wait_for(email, "Reset your password"))
    answer = api.post(
        "/password/reset/confirm", json={"token": reset_token, "new_password": NEW_PASSWORD}
    )
    assert answer.status_code == 200
    assert api.get("/me", headers=bearer(answer.json())).status_code == 200

    for old in (first, second):
        assert api.get("/me", headers=bearer(old)).status_code == 401
        assert api.post("/refresh", json={"refresh_token": old["refresh_token"]}).status_code == 401
    assert api.post("/signin", json={"email": email, "password": NEW_PASSWORD}).status_code == 200
    old_password = api.post("/signin", json={"email": email, "password": DEFAULT_PASSWORD})
    assert old_password.status_code == 401
    replay = api.post(
        "/password/reset/confirm", json={"token": reset_token, "new_password": "another passphrase"}
    )
    assert replay.status_code == 400
    mail_server.wait_for(email, "Your password was reset")

    logs = server.output() + worker.read_text()
    for token in (verify_token, reset_token):
        assert token not in logs


def test_email_change_through_the_worker(api, mail_server):
    session = api.post(
        "/signup", json={"email": "before@example.com", "password": DEFAULT_PASSWORD}
    )
    session = session.json()
    response = api.post(
        "/email/change",
        json={"new_email": "after@example.com", "current_password": DEFAULT_PASSWORD},
        headers=bearer(session),
    )
    assert response.status_code == 202
    mail_server.wait_for("before@example.com", "Your email address is being changed")
    token = link_token(mail_server.wait_for("after@example.com", "Confirm your new email address"))
    confirmed = api.post("/email/change/confirm", json={"token": token})
    assert confirmed.status_code == 200
    assert confirmed.json()["email"] == "after@example.com"
    assert confirmed.json()["email_verified"] is True


def wait_until(condition, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def test_a_reset_requested_while_the_mail_server_is_down_arrives_when_it_is_back(
    api, mail_server, worker
):
    User.objects.create_user("outage@example.com", DEFAULT_PASSWORD)
    mail_server.stop()
    try:
        assert api.post("/password/reset", json={"email": "outage@example.com"}).status_code == 202
        wait_until(lambda: DBTaskResult.objects.filter(status="FAILED").exists())
        failed = DBTaskResult.objects.get(status="FAILED")
        assert failed.task_path == "accounts.tasks.password_reset_send"
        assert "ConnectionRefusedError" in failed.exception_class_path
        assert DBTaskResult.objects.filter(status="READY").exists()  # the next attempt
    finally:
        mail_server.start()
    mail_server.wait_for("outage@example.com", "Reset your password")
    # Delivery is at least once: an attempt whose answer from the mail server was lost after the
    # message went out is rolled back (its link dead) and tried again, and the newer link is the
    # one that works. Wait for the queue to settle, then follow the latest message.
    wait_until(lambda: not DBTaskResult.objects.filter(status__in=["READY", "RUNNING"]).exists())
    received = [
        item
        for item in mail_server.messages_to("outage@example.com")
        if item.message["Subject"] == "Reset your password"
    ][-1]
    confirm = api.post(
        "/password/reset/confirm",
        json={"token": link_token(received), "new_password": NEW_PASSWORD},
    )
    assert confirm.status_code == 200
    assert "attempt 1 of 12 failed (ConnectionRefusedError)" in worker.read_text()


def test_reset_answers_registered_and_unknown_addresses_alike_in_time(api, mail_server):
    User.objects.create_user("registered@example.com", DEFAULT_PASSWORD)

    def timed(email: str) -> tuple[float, httpx.Response]:
        start = time.perf_counter()
        response = api.post("/password/reset", json={"email": email})
        return time.perf_counter() - start, response

    def median_ratio() -> float:
        """Median over pairs of back-to-back requests (drift on a shared machine hits both)."""
        ratios = []
        for _ in range(30):
            registered, known = timed("registered@example.com")
            unknown, other = timed("nobody.here@example.com")
            assert known.status_code == other.status_code == 202
            assert known.content == other.content
            ratios.append(registered / unknown)
        return statistics.median(ratios)

    for _ in range(5):  # warm-up
        timed("registered@example.com")
        timed("nobody.here@example.com")
    # A leak shows in every round; a burst of load on a shared machine in one round at most.
    ratios = [median_ratio() for _ in range(3)]
    assert 0.5 <= statistics.median(ratios) <= 2, ratios
    # The worker decides: messages to the account, none to the unknown address.
    wait_until(lambda: not DBTaskResult.objects.filter(status__in=["READY", "RUNNING"]).exists())
    assert mail_server.messages_to("registered@example.com")
    assert mail_server.messages_to("nobody.here@example.com") == []
