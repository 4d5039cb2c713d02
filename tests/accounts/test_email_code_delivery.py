"""Sign-in codes and new-device notices through the real parts: a uvicorn server that only
enqueues (TASKS_BACKEND=database), the real `manage.py db_worker`, and an aiosmtpd server
requiring STARTTLS and AUTH (the fixtures of test_email_delivery). The code request's answer and
timing for registered and unknown addresses."""

import re
import statistics
import time

import httpx
import pytest
from django_tasks_db.models import DBTaskResult

from accounts.models import User
from tests.accounts.test_email_delivery import api, mail_server, server, wait_until, worker
from tests.factories import DEFAULT_PASSWORD
from tests.support.mail import parts
from tests.support.markers import LIVE

pytestmark = [*LIVE, pytest.mark.slow]
__all__ = ["api", "mail_server", "server", "worker"]  # the fixtures this module shares
SHOWN_CODE = re.compile(r"\b[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}\b")
SAFARI = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 Version/17.5 Safari/605.1.15"
)


def code_of(received) -> str:
    found = parts(received.message)
    [code] = SHOWN_CODE.findall(found["text/plain"])
    assert code in found["text/html"]
    return code


def test_a_code_comes_by_mail_and_signs_in_then_a_new_device_is_told(api, mail_server, worker):
    email = "by.code@example.com"
    assert (
        api.post("/signup", json={"email": email, "password": DEFAULT_PASSWORD}).status_code == 201
    )
    assert (
        api.post("/signin", json={"email": email, "password": DEFAULT_PASSWORD}).status_code == 200
    )
    asked = api.post("/email/code", json={"email": email}, headers={"User-Agent": SAFARI})
    assert asked.status_code == 202
    received = mail_server.wait_for(email, "Your sign-in code")
    assert received.over_tls and received.login == b"mailer"
    code = code_of(received)
    answer = api.post(
        "/email/code/confirm",
        json={"email": email, "code": code.lower()},
        headers={"User-Agent": SAFARI},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["user"]["email_verified"] is True
    # Safari on macOS never signed in to this account: the owner hears of it, by mail.
    notice = parts(mail_server.wait_for(email, "New sign-in to your account").message)
    assert "Safari on macOS" in notice["text/plain"] and "127.0.0.0/24" in notice["text/plain"]
    assert "http://localhost:3000/account" in notice["text/html"]
    # The code never sat in the queue's table, and no log line holds it.
    assert all(code not in str(task.args_kwargs) for task in DBTaskResult.objects.all())
    assert code not in worker.read_text() and code.replace("-", "") not in worker.read_text()


def test_code_requests_answer_registered_and_unknown_addresses_alike_in_time(api, mail_server):
    User.objects.create_user("has.account@example.com", DEFAULT_PASSWORD)

    def timed(email: str) -> tuple[float, httpx.Response]:
        start = time.perf_counter()
        response = api.post("/email/code", json={"email": email})
        return time.perf_counter() - start, response

    def median_ratio() -> float:
        ratios = []
        for _ in range(30):
            registered, known = timed("has.account@example.com")
            unknown, other = timed("no.account@example.com")
            assert known.status_code == other.status_code == 202
            assert known.content == other.content
            ratios.append(registered / unknown)
        return statistics.median(ratios)

    for _ in range(5):  # warm-up
        timed("has.account@example.com")
        timed("no.account@example.com")
    ratios = [median_ratio() for _ in range(3)]
    assert 0.5 <= statistics.median(ratios) <= 2, ratios
    wait_until(lambda: not DBTaskResult.objects.filter(status__in=["READY", "RUNNING"]).exists())
    assert mail_server.messages_to("has.account@example.com")
    assert mail_server.messages_to("no.account@example.com") == []
