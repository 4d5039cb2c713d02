"""Django 6.1's MAILERS entry from Django's own EMAIL_* variables (read by settings): SMTP when a
mail server is named, else (development) the console, or the log when the log is JSON."""

import logging
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend

SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
CONSOLE_BACKEND = "django.core.mail.backends.console.EmailBackend"
LOG_BACKEND = "toolkit.mailers.LogEmailBackend"
logger = logging.getLogger("project.mail")


def smtp_default_port(*, use_tls: bool, use_ssl: bool) -> int:
    """The usual port of each way to reach a mail server; both ways at once are refused."""
    if use_tls and use_ssl:
        raise ImproperlyConfigured(
            "EMAIL_USE_TLS (STARTTLS, usually port 587) and EMAIL_USE_SSL (TLS from the first "
            "byte, usually port 465) exclude each other: set one of them."
        )
    return 465 if use_ssl else 587 if use_tls else 25


def default_mailer(options: dict[str, Any], *, log_format: str = "text") -> dict[str, Any]:
    """SMTP with `options` when they name a host; without one (development), the console, where
    messages, links included, are printed as Django prints them; or, with LOG_FORMAT=json, the
    log (LogEmailBackend), so that every line the process writes stays one JSON object."""
    if options["host"]:
        return {"BACKEND": SMTP_BACKEND, "OPTIONS": options}
    return {"BACKEND": LOG_BACKEND if log_format == "json" else CONSOLE_BACKEND}


class LogEmailBackend(BaseEmailBackend):
    """Development's mailer under LOG_FORMAT=json: each message is one INFO line of `project.mail`
    with its subject, recipients and text body (the link or code a developer needs to go on).

    Those bodies hold live tokens, so this backend refuses to send in production (where
    EMAIL_HOST is required anyway): a log shipped elsewhere must never carry them.
    """

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        if getattr(settings, "IS_PRODUCTION", False):
            raise ImproperlyConfigured("Messages are never written to the log in production.")
        for message in email_messages:
            logger.info(
                "Email (not sent: no EMAIL_HOST): %s",
                message.subject,
                extra={
                    "event": "email.logged",
                    "subject": message.subject,
                    "to": list(message.to),
                    "body": str(message.body),
                },
            )
        return len(email_messages)
