"""Reading the messages the service sent: the link's token, the parts, the subject."""

import re
from email.message import Message

from django.core import mail

LINK_TOKEN = re.compile(r"[?&]token=([A-Za-z0-9_%-]+)")


def token_in(text: str) -> str:
    match = LINK_TOKEN.search(text)
    assert match, f"no link with a token in:\n{text}"
    return match.group(1)


def sent_to(address: str) -> list[mail.EmailMessage]:
    """Messages in Django's locmem outbox (tests in this process) addressed to `address`."""
    return [message for message in mail.outbox if address in message.to]


def only_message_to(address: str, subject: str) -> mail.EmailMessage:
    messages = [message for message in sent_to(address) if message.subject == subject]
    assert len(messages) == 1, [(m.to, m.subject) for m in mail.outbox]
    return messages[0]


def html_part(message: mail.EmailMessage) -> str:
    assert isinstance(message, mail.EmailMultiAlternatives)
    html = next(content for content, mimetype in message.alternatives if mimetype == "text/html")
    assert isinstance(html, str)
    return html


def link_token(message: mail.EmailMessage) -> str:
    """The token of the message's link, the same in its text and HTML parts."""
    token = token_in(str(message.body))
    assert token_in(html_part(message)) == token
    return token


def parts(message: Message) -> dict[str, str]:
    """A received (parsed) message's text and HTML parts by content type."""
    found = {}
    for part in message.walk():
        if part.get_content_maintype() == "text":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            found[part.get_content_type()] = payload.decode()
    return found
