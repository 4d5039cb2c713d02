"""Turn a `DATABASE_URL` in any spelling the old backend's users hold into Django's DATABASES entry.

Accepted: `postgresql://`, `postgres://`, `postgresql+asyncpg://`, `postgresql+psycopg://` (and
`+psycopg2`), `sqlite:///relative/path`, `sqlite:////absolute/path`. The old backend's spellings
are translated first (the scheme's driver suffix goes, asyncpg's `ssl=` becomes libpq's
`sslmode=`, asyncpg-only options are dropped with a warning); then libpq itself parses the URL
(psycopg's `conninfo_to_dict`), so whatever libpq accepts works as libpq means it: host lists
(`postgresql://u:p@h1:5432,h2:5432/db?target_session_attrs=read-write`, the way to follow a
failover), `target_session_attrs`, `load_balance_hosts`, IPv6 in brackets, percent-encoding.
Every error is one sentence that names `DATABASE_URL` and never quotes the URL, because the URL
carries the password.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import SplitResult, quote, unquote, urlsplit

from project.database_options import URL_PARTS, connection_options, fail

POSTGRES_SCHEMES = frozenset(
    {
        "postgres",
        "postgresql",
        "postgresql+asyncpg",
        "postgresql+psycopg",
        "postgresql+psycopg2",
        "postgres+asyncpg",
    }
)
SQLITE_SCHEMES = frozenset({"sqlite", "sqlite3"})
HIGHEST_PORT = 65535


@dataclass(frozen=True)
class PoolSettings:
    """How the per-process psycopg pool is sized and timed (seconds), how it checks a
    connection before lending it (psycopg_pool's `check`), and whether the server is a
    transaction-mode pooler (None: guess from the host and port, see `looks_like_pooler`)."""

    min_size: int = 2
    max_size: int = 10
    timeout: float = 3.0
    connect_timeout: int = 5
    statement_timeout: float = 30.0
    check: Callable[[Any], None] | None = None
    pooler: bool | None = None


@dataclass
class DatabaseConfig:
    """Django's DATABASES["default"], what was dropped on the way, and a password-free label."""

    settings: dict[str, Any]
    warnings: list[str] = field(default_factory=list)
    label: str = ""

    @property
    def is_postgresql(self) -> bool:
        return bool(self.settings["ENGINE"] == "django.db.backends.postgresql")


def database_config_from_url(url: str, *, base_dir: Path, pool: PoolSettings) -> DatabaseConfig:
    url = url.strip()
    scheme, separator, _ = url.partition("://")
    if not separator:
        raise fail(
            "is not a URL: expected postgresql://USER:PASSWORD@HOST:PORT/NAME or sqlite:///PATH."
        )
    scheme = scheme.lower()
    if scheme in SQLITE_SCHEMES:
        return sqlite_config(url, base_dir=base_dir)
    if scheme in POSTGRES_SCHEMES:
        return postgresql_config(url, pool=pool)
    raise fail(
        f"has the unsupported scheme {scheme!r}: use postgresql://, postgres://, "
        "postgresql+asyncpg://, postgresql+psycopg:// or sqlite:///."
    )


def sqlite_config(url: str, *, base_dir: Path) -> DatabaseConfig:
    # sqlite:///db.sqlite3 is relative to the project, sqlite:////var/db.sqlite3 is absolute.
    raw_path = url.partition("://")[2].partition("?")[0]
    if raw_path.startswith("/"):
        raw_path = raw_path[1:]
    if not raw_path:
        raise fail("names no SQLite file: use sqlite:///db.sqlite3 or sqlite:////absolute/path.")
    name: str | Path = (
        raw_path if raw_path == ":memory:" else (base_dir / unquote(raw_path)).resolve()
    )
    return DatabaseConfig(
        settings={
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": name,
            # A busy database waits this long for the write lock instead of failing at once.
            "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
            "TEST": {"NAME": None},
        },
        label=f"sqlite:///{raw_path}",
    )


def split_url(url: str) -> SplitResult:
    """The URL's parts, urllib's way, only to find its query string. A password with an
    unencoded `?`, `/` or `#` ends the host part early; libpq then finds a malformed port."""
    try:
        parts = urlsplit(url)
    except ValueError:
        # urllib's own message can quote the netloc, password included: never chain it.
        raise fail("has a malformed host or port.") from None
    return parts


def postgresql_config(url: str, *, pool: PoolSettings) -> DatabaseConfig:
    parts = split_url(url)
    # The host part first: a password holding an unencoded `?` shows up as a bad port there,
    # before its tail is read as a query string.
    params = libpq_parse(f"postgresql://{parts.netloc}{parts.path}")
    ports_check(params)
    translated, warnings = connection_options(parts.query)
    if parts.fragment:
        raise fail("has a '#' in it: percent-encode special characters (%23).")
    if translated:
        query = "&".join(f"{key}={quote(value, safe='')}" for key, value in translated.items())
        params = libpq_parse(f"postgresql://{parts.netloc}{parts.path}?{query}")
    hosts, ports = host_list(params)
    name = params.get("dbname", "")
    if not name:
        raise fail("names no database: add /NAME after the host.")
    if "/" in name:
        raise fail("has a database name containing '/'.")

    options: dict[str, Any] = {key: value for key, value in params.items() if key not in URL_PARTS}
    if "connect_timeout" in options:
        options["connect_timeout"] = int(options["connect_timeout"])
    is_pooler = pool.pooler if pool.pooler is not None else looks_like_pooler(hosts, ports)
    statement_timeout_ms = int(pool.statement_timeout * 1000)
    if statement_timeout_ms and not is_pooler:
        # Sent as a startup parameter; PgBouncer in transaction mode rejects startup options.
        extra = f"-c statement_timeout={statement_timeout_ms}"
        options["options"] = f"{options['options']} {extra}" if "options" in options else extra
    options.setdefault("connect_timeout", pool.connect_timeout)
    options["pool"] = {
        "min_size": pool.min_size,
        "max_size": max(pool.max_size, pool.min_size),
        "timeout": pool.timeout,
        "name": "default",
    }
    if pool.check is not None:
        options["pool"]["check"] = pool.check
    # Django's psycopg backend already keeps prepare_threshold at None (no server-side prepared
    # statements) unless server_side_binding is on; we never turn it on.
    settings: dict[str, Any] = {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": name,
        "USER": params.get("user", ""),
        "PASSWORD": params.get("password", ""),
        # libpq's lists as libpq takes them: Django hands both to psycopg unchanged, and psycopg
        # tries each host in turn (target_session_attrs picks the primary after a failover).
        "HOST": ",".join(hosts),
        "PORT": ",".join(ports),
        "CONN_MAX_AGE": 0,  # the pool keeps connections; Django requires 0 with a pool
        "DISABLE_SERVER_SIDE_CURSORS": is_pooler,
        "OPTIONS": options,
    }
    user = f"{settings['USER']}@" if settings["USER"] else ""
    return DatabaseConfig(
        settings=settings,
        warnings=warnings,
        label=f"postgresql://{user}{shown_hosts(hosts, ports)}/{name}",
    )


def libpq_parse(url: str) -> dict[str, str]:
    """libpq's own reading of a URL (percent-decoding, host lists, IPv6 brackets)."""
    from psycopg import ProgrammingError
    from psycopg.conninfo import conninfo_to_dict

    try:
        params = conninfo_to_dict(url)
    except ProgrammingError:
        # libpq's message quotes the token it choked on, which may be the password.
        raise fail("is malformed: percent-encode special characters in it.") from None
    return {key: str(value) for key, value in params.items()}


def host_list(params: dict[str, str]) -> tuple[list[str], list[str]]:
    """The hosts and ports, checked as libpq would check them when connecting, but now: one
    port for every host, or one port per host; a blank entry means the default port."""
    hosts = params.get("host", "").split(",") if params.get("host") else []
    ports = params.get("port", "").split(",") if "port" in params else []
    if not hosts:
        raise fail("names no host: expected postgresql://USER:PASSWORD@HOST:PORT/NAME.")
    if "" in hosts:
        raise fail("has an empty entry in its host list.")
    ports_check(params)
    if len(ports) > 1 and len(ports) != len(hosts):
        raise fail(
            f"names {len(hosts)} host(s) and {len(ports)} ports: give one port per host, "
            "or one for all of them."
        )
    return hosts, ports


def ports_check(params: dict[str, str]) -> None:
    for port in params.get("port", "").split(","):
        if port and not (port.isdigit() and 0 < int(port) <= HIGHEST_PORT):
            raise fail("has a malformed host or port.")


def shown_hosts(hosts: list[str], ports: list[str]) -> str:
    """`h1:5432,[::1]:5433`: the hosts and ports of a label."""
    shown = []
    for position, host in enumerate(hosts):
        port = ports[position] if len(ports) > 1 else ports[0] if ports else ""
        text = f"[{host}]" if ":" in host else host
        shown.append(f"{text}:{port}" if port else text)
    return ",".join(shown)


# Transaction-mode poolers (PgBouncer and the hosted ones built on it): no startup options, no
# server-side cursors across transactions.
POOLER_PORT = "6432"  # PgBouncer's customary port


def looks_like_pooler(hosts: list[str], ports: list[str]) -> bool:
    """Neon's `-pooler` hosts, Supabase's `pooler.supabase.com`, anything on port 6432."""
    return POOLER_PORT in ports or any(
        "-pooler." in host.lower() or host.lower().endswith(".pooler.supabase.com")
        for host in hosts
    )
