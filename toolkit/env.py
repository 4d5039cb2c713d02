"""Typed readers of the environment, and what every entry point does to it first (`.env`)."""

import ipaddress
import os
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

from toolkit.links import link_template
from toolkit.rates import Rate, parse_rate

TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off"})
# Variables a library reads by itself, and takes as set when they merely exist: prometheus-client
# switches to multiprocess mode on PROMETHEUS_MULTIPROC_DIR and, when it is blank, writes its
# files into the working directory.
LIBRARY_VARIABLES = ("PROMETHEUS_MULTIPROC_DIR",)


def entry_environment_prepare(base_dir: Path) -> None:
    """What every entry point (manage.py, project.asgi, server.serve) does before Django or a
    library reads the environment: read `.env` (load_dotenv_file), then take out the library
    variables left blank (as a copied `.env.example` leaves them)."""
    load_dotenv_file(base_dir)
    blank_library_variables_unset()


def blank_library_variables_unset() -> None:
    """A blank variable means unset, to settings and to the libraries that read it by itself."""
    for name in LIBRARY_VARIABLES:
        if not env_str(name):
            os.environ.pop(name, None)


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


def env_int(
    name: str, default: int, *, minimum: int | None = None, maximum: int | None = None
) -> int:
    """A whole number; `minimum` and `maximum` are the smallest and largest allowed (inclusive)."""
    raw = env_str(name)
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, got {raw!r}.") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, got {value}.")
    if maximum is not None and value > maximum:
        raise ImproperlyConfigured(f"{name} must be at most {maximum}, got {value}.")
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


def env_origins(name: str, default: str) -> list[str]:
    """A comma-separated list of web origins (`https://app.example.com`: a scheme and a host,
    no path); a trailing slash is tolerated."""
    origins = []
    for value in env_list(name, default):
        origin = value.rstrip("/")
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.path or parts.query:
            raise ImproperlyConfigured(
                f"{name} has {value!r}, which is not an origin like https://app.example.com."
            )
        origins.append(origin)
    return origins


def env_link(
    name: str, default: str, *, frontend: str, fields: tuple[str, ...] = ("token",)
) -> str:
    """A link template into the frontend, each of `fields` (`{token}`) in it once
    (toolkit.links.link_template)."""
    return link_template(name, env_str(name, default), frontend=frontend, fields=fields)


def env_rate(name: str, default: str) -> Rate:
    """A throttle rate, `<count>/<period>` (toolkit.rates): `10/h`, `5/15m`, `100/s`."""
    return parse_rate(name, env_str(name, default))


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


def env_origin(name: str) -> str:
    """One web origin (as env_origins), or "" when unset."""
    origins = env_origins(name, "")
    if len(origins) > 1:
        raise ImproperlyConfigured(f"{name} must be one origin, got {env_str(name)!r}.")
    return origins[0] if origins else ""
