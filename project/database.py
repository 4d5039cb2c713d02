"""Turn a `DATABASE_URL` in any spelling the old backend's users hold into Django's DATABASES entry.

Accepted: `postgresql://`, `postgres://`, `postgresql+asyncpg://`, `postgresql+psycopg://` (and
`+psycopg2`), `sqlite:///relative/path`, `sqlite:////absolute/path`. asyncpg's `ssl=` becomes
libpq's `sslmode=`; asyncpg-only options are dropped with a warning. Every error is one sentence
that names `DATABASE_URL` and never quotes the URL, because the URL carries the password.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import SplitResult, parse_qsl, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

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
SSL_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
CHANNEL_BINDING_MODES = ("disable", "prefer", "require")

# asyncpg's `ssl=` takes booleans as well as libpq's modes.
ASYNCPG_SSL_WORDS = {
    "true": "require",
    "1": "require",
    "yes": "require",
    "on": "require",
    "false": "disable",
    "0": "disable",
    "no": "disable",
    "off": "disable",
}

# libpq connection parameters that are passed to psycopg as they are.
LIBPQ_PASSTHROUGH = frozenset(
    {
        "application_name",
        "gssencmode",
        "keepalives",
        "keepalives_count",
        "keepalives_idle",
        "keepalives_interval",
        "options",
        "passfile",
        "sslcert",
        "sslcompression",
        "sslcrl",
        "sslkey",
        "sslpassword",
        "sslrootcert",
        "sslsni",
        "ssl_min_protocol_version",
        "ssl_max_protocol_version",
        "target_session_attrs",
        "tcp_user_timeout",
    }
)

# Options that only asyncpg or SQLAlchemy understand: harmless to drop, worth a warning.
DROPPED_OPTIONS = frozenset(
    {
        "command_timeout",
        "direct_tls",
        "max_cached_statement_lifetime",
        "max_cacheable_statement_size",
        "prepared_statement_cache_size",
        "prepared_statement_name_func",
        "server_settings",
        "statement_cache_size",
        "timeout",
        "async_fallback",
        "pool_size",
        "max_overflow",
    }
)


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


def fail(reason: str) -> ImproperlyConfigured:
    return ImproperlyConfigured(f"DATABASE_URL {reason}")


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
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - urllib validates the port lazily
    except ValueError:
        # urllib's own message can quote the netloc, password included: never chain it.
        raise fail("has a malformed host or port.") from None
    return parts


def postgresql_config(url: str, *, pool: PoolSettings) -> DatabaseConfig:
    parts = split_url(url)
    host = parts.hostname or ""
    name = unquote(parts.path.lstrip("/"))
    if not host:
        raise fail("names no host: expected postgresql://USER:PASSWORD@HOST:PORT/NAME.")
    if not name:
        raise fail("names no database: add /NAME after the host.")
    if "/" in name:
        raise fail("has a database name containing '/'.")

    options, warnings = connection_options(parts.query)
    is_pooler = pool.pooler if pool.pooler is not None else looks_like_pooler(host, parts.port)
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
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": host,
        "PORT": str(parts.port or ""),
        "CONN_MAX_AGE": 0,  # the pool keeps connections; Django requires 0 with a pool
        "DISABLE_SERVER_SIDE_CURSORS": is_pooler,
        "OPTIONS": options,
    }
    shown_host = f"[{host}]" if ":" in host else host
    port = f":{parts.port}" if parts.port else ""
    user = f"{settings['USER']}@" if settings["USER"] else ""
    return DatabaseConfig(
        settings=settings,
        warnings=warnings,
        label=f"postgresql://{user}{shown_host}{port}/{name}",
    )


# Transaction-mode poolers (PgBouncer and the hosted ones built on it): no startup options, no
# server-side cursors across transactions.
POOLER_PORT = 6432  # PgBouncer's customary port


def looks_like_pooler(host: str, port: int | None) -> bool:
    """Neon's `-pooler` hosts, Supabase's `pooler.supabase.com`, anything on port 6432."""
    host = host.lower()
    return "-pooler." in host or host.endswith(".pooler.supabase.com") or port == POOLER_PORT


def connection_options(query: str) -> tuple[dict[str, Any], list[str]]:
    """libpq options from the URL's query string, and warnings for what was dropped."""
    options: dict[str, Any] = {}
    warnings: list[str] = []
    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query))
    except ValueError:
        raise fail("has a malformed query string after '?'.") from None
    sslmode_from_ssl = None
    for key, value in pairs:
        key = key.strip().lower()
        value = value.strip()
        if key == "sslmode":
            options["sslmode"] = one_of(key, value.lower(), SSL_MODES)
        elif key == "ssl":
            word = value.lower()
            sslmode_from_ssl = ASYNCPG_SSL_WORDS.get(word) or one_of(
                key, word, SSL_MODES + tuple(ASYNCPG_SSL_WORDS)
            )
        elif key == "channel_binding":
            options["channel_binding"] = one_of(key, value.lower(), CHANNEL_BINDING_MODES)
        elif key == "connect_timeout":
            if not value.isdigit():
                raise fail(f"has connect_timeout={value!r}: it must be a whole number of seconds.")
            options["connect_timeout"] = int(value)
        elif key in LIBPQ_PASSTHROUGH:
            options[key] = value
        elif key in DROPPED_OPTIONS:
            warnings.append(f"DATABASE_URL option {key!r} is for asyncpg only and was ignored.")
        elif key.isidentifier():
            raise fail(f"has the unknown option {key!r}.")
        else:
            # Likely a password with an unencoded '?' or '#': never echo what may be part of it.
            raise fail("has a malformed query string: percent-encode special characters.")
    if sslmode_from_ssl and options.setdefault("sslmode", sslmode_from_ssl) != sslmode_from_ssl:
        raise fail("has both sslmode= and ssl= with different meanings: keep one.")
    return options, warnings


def one_of(key: str, value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise fail(f"has {key}={value!r}: use one of {', '.join(allowed)}.")
    return value
