"""Typed readers for configuration from the environment, and the `.env` loader for entry points."""

import ipaddress
import os
from collections.abc import Iterable
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off"})


def load_dotenv_file(base_dir: Path) -> None:
    """Read `.env` for the server and manage.py, never for a test run.

    A test run says so with `ENVIRONMENT=test` in the process environment: a developer's `.env`
    may point at a production database, and tests must not touch it.
    """
    if os.environ.get("ENVIRONMENT") == "test":
        return
    from dotenv import load_dotenv

    load_dotenv(base_dir / ".env", override=False)


def env_str(name: str, default: str = "") -> str:
    """The variable's value with surrounding blanks removed, or `default` when unset or blank."""
    value = os.environ.get(name, "").strip()
    return value or default


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    """A whole number; `minimum` is the smallest value allowed (inclusive)."""
    raw = env_str(name)
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, got {raw!r}.") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, got {value}.")
    return value


def env_float(name: str, default: float, *, minimum: float | None = None) -> float:
    """A number; `minimum` is the smallest value allowed (inclusive, as for `env_int`)."""
    raw = env_str(name)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, got {raw!r}.") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise ImproperlyConfigured(f"{name} must be a finite number, got {raw!r}.")
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum:g}, got {raw}.")
    return value


def env_bool(name: str, default: bool) -> bool:
    raw = env_str(name).lower()
    if not raw:
        return default
    if raw in TRUE_WORDS:
        return True
    if raw in FALSE_WORDS:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, got {raw!r}.")


def env_choice(name: str, default: str, choices: Iterable[str]) -> str:
    allowed = tuple(choices)
    value = env_str(name, default).lower()
    if value not in allowed:
        raise ImproperlyConfigured(f"{name} must be one of {', '.join(allowed)}, got {value!r}.")
    return value


def env_list(name: str, default: str = "") -> list[str]:
    """A comma-separated list; blank entries are ignored."""
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


def env_networks(
    name: str, default: str
) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """A comma-separated list of networks in CIDR notation (`10.0.0.0/8`, `2001:db8::/32`; a
    bare address is its own network). A network with host bits set (`10.0.0.1/8`) is refused:
    it is most likely a typo for something else."""
    networks = []
    for entry in env_list(name, default):
        try:
            networks.append(ipaddress.ip_network(entry))
        except ValueError as error:
            raise ImproperlyConfigured(
                f"{name} has {entry!r}, which is not a network like 10.0.0.0/8 or fc00::/7 "
                f"({error})."
            ) from None
    return tuple(networks)
