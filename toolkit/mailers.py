"""Django 6.1's MAILERS entry from Django's own EMAIL_* variables (read by settings): SMTP when a
mail server is named, else the console."""

from typing import Any

from django.core.exceptions import ImproperlyConfigured

SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
CONSOLE_BACKEND = "django.core.mail.backends.console.EmailBackend"


def smtp_default_port(*, use_tls: bool, use_ssl: bool) -> int:
    """The usual port of each way to reach a mail server; both ways at once are refused."""
    if use_tls and use_ssl:
        raise ImproperlyConfigured(
            "EMAIL_USE_TLS (STARTTLS, usually port 587) and EMAIL_USE_SSL (TLS from the first "
            "byte, usually port 465) exclude each other: set one of them."
        )
    return 465 if use_ssl else 587 if use_tls else 25


def default_mailer(options: dict[str, Any]) -> dict[str, Any]:
    """SMTP with `options` when they name a host; without one (development), the console, where
    messages, links included, are printed."""
    if options["host"]:
        return {"BACKEND": SMTP_BACKEND, "OPTIONS": options}
    return {"BACKEND": CONSOLE_BACKEND}
