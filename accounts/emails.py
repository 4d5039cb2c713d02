"""The messages this service sends: a subject line, a text part and an HTML part per kind, each
from a template under accounts/templates/accounts/email/<kind>/, or for the kinds an app built
on accounts registers (email_kind_register), under the folder it names."""

from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

# The MAILERS entry settings.py makes from the EMAIL_* variables.
MAILER = "default"
# Every kind of message, by its template folder.
KINDS = (
    "verify_email",
    "password_reset",
    "email_change",
    "email_change_notice",
    "email_changed_notice",
    "password_changed",
    "password_reset_notice",
    "email_code",
    "new_device",
    "account_deletion",
)
# The apps' kinds (a passkey added, a provider linked): kind -> template folder. Registered from
# their AppConfig.ready(), so in the worker too; accounts imports none of them.
APP_KINDS: dict[str, str] = {}


def email_kind_register(*, kind: str, folder: str) -> None:
    """A message kind of an app: `folder` holds its subject.txt, body.txt and body.html."""
    if kind in KINDS:
        raise ValueError(f"message kind {kind} is accounts' own")
    APP_KINDS[kind] = folder


def duration_text(seconds: int) -> str:
    """`3 days`, `1 hour`, `15 minutes`: how long a link lives, for the message's reader."""
    delta = timedelta(seconds=seconds)
    for unit, size in (("day", 86_400), ("hour", 3600), ("minute", 60)):
        if delta.total_seconds() >= size and delta.total_seconds() % size == 0:
            count = int(delta.total_seconds() // size)
            return f"{count} {unit}{'' if count == 1 else 's'}"
    minutes = max(1, round(delta.total_seconds() / 60))
    return f"{minutes} minute{'' if minutes == 1 else 's'}"


def email_message_build(
    *, kind: str, to: str, context: dict[str, object]
) -> EmailMultiAlternatives:
    if kind in KINDS:
        folder = f"accounts/email/{kind}"
    elif kind in APP_KINDS:
        folder = APP_KINDS[kind]
    else:
        raise ValueError(f"no such message: {kind}")
    context = {"email": to, "frontend_url": settings.FRONTEND_URL, **context}
    subject = " ".join(render_to_string(f"{folder}/subject.txt", context).split())
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"{folder}/body.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
    )
    message.attach_alternative(render_to_string(f"{folder}/body.html", context), "text/html")
    return message


def email_message_send(message: EmailMultiAlternatives) -> None:
    """Hand the message to the configured mailer (MAILERS["default"]); raises on failure."""
    message.send(using=MAILER)
