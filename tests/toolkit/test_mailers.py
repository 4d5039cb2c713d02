"""Development's mail without EMAIL_HOST: Django's console under LOG_FORMAT=text, one JSON log
line a message under LOG_FORMAT=json (so every line the server writes stays JSON), and never
the log in production."""

import json

import httpx
import pytest
from django.core import mail
from django.core.exceptions import ImproperlyConfigured

from tests.conftest import subprocess_database_url
from tests.support.commands import documented_variables
from toolkit.mailers import CONSOLE_BACKEND, LOG_BACKEND, SMTP_BACKEND, default_mailer

NO_HOST = {"host": ""}


def test_without_a_mail_server_text_logs_get_the_console_and_json_logs_the_log():
    assert default_mailer(NO_HOST, log_format="text") == {"BACKEND": CONSOLE_BACKEND}
    assert default_mailer(NO_HOST, log_format="json") == {"BACKEND": LOG_BACKEND}
    assert (
        default_mailer({"host": "smtp.example.com"}, log_format="json")["BACKEND"] == SMTP_BACKEND
    )


def test_the_log_mailer_refuses_to_write_messages_to_a_production_log(settings):
    settings.IS_PRODUCTION = True
    settings.MAILERS = {"default": {"BACKEND": LOG_BACKEND}}
    message = mail.EmailMessage("Subject", "token=secret", "a@example.com", ["b@example.com"])
    with pytest.raises(ImproperlyConfigured):
        message.send(using="default")


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgresql
def test_make_run_with_json_logs_writes_every_message_as_one_json_line(serve_factory):
    """`python -m server.serve` as a new user starts it: project settings, development, no
    EMAIL_HOST, LOG_FORMAT=json; messages sent from the request (immediate tasks)."""
    environment = dict.fromkeys(documented_variables(), "")  # whatever a .env would say
    environment.update(
        DJANGO_SETTINGS_MODULE="project.settings",
        ENVIRONMENT="development",
        DATABASE_URL=subprocess_database_url(),
        LOG_FORMAT="json",
    )
    server = serve_factory(**environment)
    with httpx.Client(base_url=f"{server.url}/api/auth", timeout=15) as api:
        signup = api.post("/signup", json={"email": "dev@example.com", "password": "dev pass 1234"})
        assert signup.status_code == 201, signup.text
        assert api.post("/email/code", json={"email": "dev@example.com"}).status_code == 202
    server.stop()
    entries = []
    for line in server.output().splitlines():
        if line.strip():
            try:
                entries.append(json.loads(line))
            except json.JSONDecodeError:
                pytest.fail(f"not a JSON line: {line!r}\n\n{server.output()}")
    sent = [entry for entry in entries if entry["logger"] == "project.mail"]
    assert [entry["subject"] for entry in sent] == [
        "Confirm your email address",
        "Your sign-in code",
    ]
    for entry in sent:
        assert entry["to"] == ["dev@example.com"]
        assert entry["level"] == "INFO"
    assert "http://localhost:3000/verify-email?token=" in sent[0]["body"]
    assert "http://localhost:3000/signin/code?email=dev%40example.com" in sent[1]["body"]
