"""A real SMTP server for tests: aiosmtpd on loopback, STARTTLS required (a throwaway certificate
made with openssl) and AUTH required, keeping what it receives. Stop it and start it again on the
same port to simulate an outage."""

import email
import email.policy
import ssl
import threading
import time
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from tests.support.certificates import self_signed_certificate
from tests.support.pgcluster import free_port

USERNAME = "mailer"
PASSWORD = "smtp-password-for-tests"


@dataclass
class Received:
    """One message as the server got it, with how the client talked to it."""

    mail_from: str
    recipients: list[str]
    message: EmailMessage
    over_tls: bool
    login: bytes | None


@dataclass
class Handler:
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        message = email.message_from_bytes(
            envelope.original_content or b"", policy=email.policy.default
        )
        credentials = session.auth_data if session.authenticated else None
        with self.lock:
            self.received.append(
                Received(
                    mail_from=envelope.mail_from or "",
                    recipients=list(envelope.rcpt_tos),
                    message=message,
                    over_tls=session.ssl is not None,
                    login=credentials.login if isinstance(credentials, LoginPassword) else None,
                )
            )
        return "250 Message accepted for delivery"


def authenticator(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: object
) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (
        auth_data.login == USERNAME.encode() and auth_data.password == PASSWORD.encode()
    )
    return AuthResult(success=ok, auth_data=auth_data if ok else None)


@dataclass
class MailServer:
    directory: Path
    port: int = field(default_factory=free_port)
    handler: Handler = field(default_factory=Handler)
    controller: Controller | None = None

    def __post_init__(self) -> None:
        self.key, self.cert = self_signed_certificate(self.directory, "smtp")

    def start(self) -> "MailServer":
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        self.controller = Controller(
            self.handler,
            hostname="127.0.0.1",
            port=self.port,
            tls_context=context,
            require_starttls=True,
            auth_required=True,
            authenticator=authenticator,
        )
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def environment(self) -> dict[str, str]:
        """What a server or worker needs to send here (STARTTLS with this certificate, AUTH)."""
        return {
            "EMAIL_HOST": "localhost",
            "EMAIL_PORT": str(self.port),
            "EMAIL_HOST_USER": USERNAME,
            "EMAIL_HOST_PASSWORD": PASSWORD,
            "EMAIL_USE_TLS": "true",
            "EMAIL_TIMEOUT": "5",
            "DEFAULT_FROM_EMAIL": "accounts@example.com",
            # The client verifies the certificate like any other: trust this one.
            "SSL_CERT_FILE": str(self.cert),
        }

    def messages_to(self, address: str) -> list[Received]:
        with self.handler.lock:
            return [item for item in self.handler.received if address in item.recipients]

    def wait_for(
        self, address: str, subject: str, *, count: int = 1, timeout: float = 30
    ) -> Received:
        """The `count`-th message with `subject` to `address`, waiting for it to arrive."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [m for m in self.messages_to(address) if m.message["Subject"] == subject]
            if len(found) >= count:
                return found[count - 1]
            time.sleep(0.05)
        seen = [(m.recipients, m.message["Subject"]) for m in self.handler.received]
        raise AssertionError(f"no message {subject!r} to {address} in {timeout} s; got {seen}")
