"""Signing secrets: the strength rules for production's, and the per-installation development key
(with what may use it, and the JWT secret development derives from it)."""

import contextlib
import hashlib
import hmac
import ipaddress
import os
import re
import secrets
import tempfile
from collections.abc import Iterable
from pathlib import Path

from django.core.checks.security.base import (
    SECRET_KEY_INSECURE_PREFIX,
    SECRET_KEY_MIN_LENGTH,
    SECRET_KEY_MIN_UNIQUE_CHARACTERS,
)
from django.core.exceptions import ImproperlyConfigured

SECRET_MIN_BYTES = 32
SECRET_MIN_DISTINCT_CHARACTERS = 10
# What is left of a secret once the placeholder words are taken out must still look random.
SECRET_MIN_CHARACTERS_BEYOND_PLACEHOLDERS = 16
PLACEHOLDER_WORDS = (
    "changeme",
    "change",
    "secret",
    "password",
    "passwd",
    "placeholder",
    "example",
    "default",
    "insecure",
    "django",
    "your",
    "here",
    "replace",
    "todo",
)
GENERATE_HINT = "python -c 'import secrets; print(secrets.token_urlsafe(48))'"
DEVELOPMENT_KEY_MIN_LENGTH = 32


def secret_weakness(value: str) -> str | None:
    """What `value` lacks to sign tokens with ("must ..."), or None when it passes.

    One rule for JWT_SECRET and every JWT_SECRET_FALLBACKS entry: at least 32 bytes, at least 10
    distinct characters, and not a placeholder (after dropping everything but letters and digits
    and every word like changeme, secret or password, at least 16 characters must remain).
    """
    if len(value.encode()) < SECRET_MIN_BYTES:
        return f"must be at least {SECRET_MIN_BYTES} bytes long"
    if len(set(value)) < SECRET_MIN_DISTINCT_CHARACTERS:
        return f"must have at least {SECRET_MIN_DISTINCT_CHARACTERS} distinct characters"
    remainder = re.sub(r"[^a-z0-9]", "", value.lower())
    for word in PLACEHOLDER_WORDS:
        remainder = remainder.replace(word, "")
    if len(remainder) < SECRET_MIN_CHARACTERS_BEYOND_PLACEHOLDERS:
        return "must be random, not a placeholder (changeme, secret, password, ...)"
    return None


def secret_strength_ensure(name: str, value: str) -> None:
    """Refuse to start with a weak signing secret; the message never repeats the value."""
    reason = secret_weakness(value)
    if reason is not None:
        raise ImproperlyConfigured(
            f"{name} is too weak for production: it {reason} (make one with {GENERATE_HINT})."
        )


def signing_secrets(
    *,
    secret_key: str,
    jwt_secret: str,
    jwt_fallbacks: Iterable[str],
    production: bool,
    host: str,
    development_file: Path,
    warnings: list[str],
) -> tuple[str, str]:
    """SECRET_KEY and JWT_SECRET as the service signs with, from what is set ("" for unset);
    what is worth a line in the start-up log joins `warnings`.

    Production needs both, strong, and every JWT fallback strong too. Development fills in what
    is unset: SECRET_KEY from this installation's development key, JWT_SECRET derived from
    SECRET_KEY; a generated key is for a server bound to loopback only.
    """
    if not production and not (secret_key and jwt_secret):
        development_key_host_ensure(host)
    if not secret_key:
        if production:
            raise ImproperlyConfigured("SECRET_KEY is required when ENVIRONMENT=production.")
        secret_key = development_secret_key(development_file)
        warnings.append(
            f"SECRET_KEY is unset: using this installation's development key "
            f"from {development_file}."
        )
    elif production:
        secret_key_strength_ensure(secret_key)
    if not jwt_secret:
        if production:
            raise ImproperlyConfigured("JWT_SECRET is required when ENVIRONMENT=production.")
        jwt_secret = jwt_secret_derive(secret_key)
    if production:
        jwt_secrets_strength_ensure(jwt_secret, jwt_fallbacks)
    return secret_key, jwt_secret


def jwt_secrets_strength_ensure(secret: str, fallbacks: Iterable[str]) -> None:
    """One strength rule for the signing secret and every secret that still verifies."""
    secret_strength_ensure("JWT_SECRET", secret)
    for position, fallback in enumerate(fallbacks, start=1):
        secret_strength_ensure(f"JWT_SECRET_FALLBACKS entry {position}", fallback)


def secret_key_strength_ensure(value: str) -> None:
    """Refuse production's SECRET_KEY unless it passes Django's own rule (what `check --deploy`
    reports as security.W009): long enough, varied enough, without the insecure prefix."""
    if (
        len(value) < SECRET_KEY_MIN_LENGTH
        or len(set(value)) < SECRET_KEY_MIN_UNIQUE_CHARACTERS
        or value.startswith(SECRET_KEY_INSECURE_PREFIX)
    ):
        raise ImproperlyConfigured(
            f"SECRET_KEY is too weak for production: use at least {SECRET_KEY_MIN_LENGTH} random "
            f"characters (python -c 'import secrets; print(secrets.token_urlsafe(50))')."
        )


def development_key_host_ensure(host: str) -> None:
    """The generated development key is for a server nobody else can reach."""
    if not is_loopback_host(host):
        raise ImproperlyConfigured(
            f"HOST={host} is reachable from other machines: set SECRET_KEY and JWT_SECRET "
            f"(the generated development key is for loopback only)."
        )


def development_secret_key(path: Path) -> str:
    """SECRET_KEY made of this installation's development key, with the prefix that makes
    `check --deploy` flag it (security.W009)."""
    return SECRET_KEY_INSECURE_PREFIX + development_secret(path)


def jwt_secret_derive(secret_key: str) -> str:
    """Development's JWT_SECRET when none is set: a key of its own, derived from SECRET_KEY."""
    return hmac.new(secret_key.encode(), b"jwt", hashlib.sha256).hexdigest()


def is_loopback_host(host: str) -> bool:
    """`localhost`, 127.0.0.0/8 or ::1: a server nobody else can reach."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def development_secret(path: Path) -> str:
    """This installation's random development key, created on first use in `path` (mode 600).

    Every worker process of a server, and every later start, reads the same file, so tokens
    stay valid across workers and restarts. Two processes starting at once may both generate a
    key: each writes its own temporary file and hard-links it into place, which never replaces
    an existing file, so the first link wins and both read the winner's key.
    """
    key = development_secret_read(path)
    if key is not None:
        return key
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".key-")  # mode 600
        try:
            with os.fdopen(descriptor, "w") as file:
                file.write(secrets.token_urlsafe(64) + "\n")
                file.flush()
                os.fsync(file.fileno())
            # Another process may have won the race: then its key is the one.
            with contextlib.suppress(FileExistsError):
                os.link(temporary, path)
        finally:
            os.unlink(temporary)
    except OSError as error:
        raise ImproperlyConfigured(
            f"DEVELOPMENT_SECRET_FILE {path} cannot be created ({error.strerror}): point it at "
            f"a writable place, or set SECRET_KEY and JWT_SECRET."
        ) from None
    key = development_secret_read(path)
    if key is None:  # pragma: no cover - deleted between the link and the read
        raise ImproperlyConfigured(f"DEVELOPMENT_SECRET_FILE {path} vanished while starting.")
    return key


def development_secret_read(path: Path) -> str | None:
    try:
        key = path.read_text().strip()
    except FileNotFoundError:
        return None
    except OSError as error:
        raise ImproperlyConfigured(
            f"DEVELOPMENT_SECRET_FILE {path} cannot be read ({error.strerror})."
        ) from None
    if len(key) < DEVELOPMENT_KEY_MIN_LENGTH:
        raise ImproperlyConfigured(
            f"DEVELOPMENT_SECRET_FILE {path} holds no usable key: delete it to make a new one."
        )
    return key
