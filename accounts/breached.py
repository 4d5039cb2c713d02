"""Breached passwords: a Django password validator that asks a k-anonymity range API (Have I Been
Pwned's Pwned Passwords, or a mirror of it) whether a new password appeared in a breach.

Only the first five hex digits of the password's SHA-1 leave the server; the API answers every
suffix of that range with its count (`SUFFIX:COUNT` lines), padded with made-up suffixes of count
0 (`Add-Padding: true`) so that the answer's size says nothing either. The check fails open: the
API down, refusing, or slower than PWNED_PASSWORDS_TIMEOUT, and the password is accepted, with a
warning line and a count in `accounts_breached_password_checks{result="unavailable"}`.

It makes a blocking HTTP request: accounts.validators runs the validators on a worker thread,
never on the event loop (and not at all where a request's schema is still being judged).
"""

import hashlib
import http.client
import logging
import time
import urllib.request

from django.conf import settings
from django.core.exceptions import ValidationError

from toolkit import metrics

logger = logging.getLogger("accounts.breached")
PREFIX_LENGTH = 5  # protocol: the range is named by the first five hex digits of the SHA-1
# A real answer is some 800 lines of 40 bytes, padded to at most ~1000: far below this.
MOST_ANSWER_BYTES = 1_048_576


class RangeUnavailable(Exception):
    """No usable answer from the range API in time."""


def range_fetch(prefix: str, *, timeout: float) -> str:
    """The API's answer for one range, within `timeout` seconds in all (each read waits at most
    what is left, so a server that dribbles its answer is cut off too)."""
    deadline = time.monotonic() + timeout
    request = urllib.request.Request(  # noqa: S310 - an http(s) URL from settings
        f"{settings.PWNED_PASSWORDS_URL}/range/{prefix}",
        headers={"Add-Padding": "true", "User-Agent": "accounts-api"},
    )
    chunks: list[bytes] = []
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            while chunk := response.read1(65_536):
                chunks.append(chunk)
                if time.monotonic() > deadline:
                    raise RangeUnavailable("timeout")
                if sum(map(len, chunks)) > MOST_ANSWER_BYTES:
                    raise RangeUnavailable("answer too large")
    except TimeoutError:
        raise RangeUnavailable("timeout") from None
    except (OSError, http.client.HTTPException, ValueError) as error:
        # urllib.error.URLError and HTTPError (a 4xx or 5xx answer) are OSErrors.
        raise RangeUnavailable(type(error).__name__) from None
    return b"".join(chunks).decode("ascii", errors="replace")


def breach_count(password: str) -> int | None:
    """How many times the range API has seen `password` in breaches (0: never), or None when
    it could not say."""
    digest = hashlib.sha1(password.encode(), usedforsecurity=False).hexdigest().upper()
    prefix, suffix = digest[:PREFIX_LENGTH], digest[PREFIX_LENGTH:]
    try:
        answer = range_fetch(prefix, timeout=settings.PWNED_PASSWORDS_TIMEOUT)
    except RangeUnavailable as error:
        metrics.BREACHED_PASSWORD_CHECKS.labels("unavailable").inc()
        logger.warning(
            "Breached-password check unavailable (%s): the password is accepted unchecked",
            error,
            extra={"event": "breached_passwords.unavailable", "reason": str(error)},
        )
        return None
    count = 0
    for line in answer.splitlines():
        candidate, _, seen = line.strip().partition(":")
        if candidate.upper() == suffix:
            count = int(seen) if seen.strip().isdigit() else 0  # 0: padding
            break
    metrics.BREACHED_PASSWORD_CHECKS.labels("breached" if count else "clean").inc()
    return count


class BreachedPasswordValidator:
    """Refuse a password the range API has seen in a breach (code `password_breached`)."""

    # What accounts.validators.password_problems leaves out where it must not wait on a network.
    needs_network = True

    def validate(self, password: str, user: object = None) -> None:
        if breach_count(password):
            raise ValidationError(
                "This password has appeared in a data breach and must not be used. "
                "Choose another one.",
                code="password_breached",
            )

    def get_help_text(self) -> str:
        return "Your password must not be one that has appeared in a known data breach."
