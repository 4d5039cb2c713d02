"""The query string of a `DATABASE_URL`, in the old backend's spellings, as libpq parameters.

asyncpg's `ssl=` becomes libpq's `sslmode=`; asyncpg's and SQLAlchemy's own options are dropped
with a warning; every libpq parameter (as the libpq psycopg loaded knows them) passes unchanged,
with the values the service depends on checked here, in one sentence that quotes no password.
"""

from functools import cache
from urllib.parse import parse_qsl

from django.core.exceptions import ImproperlyConfigured

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

TARGET_SESSION_ATTRS = ("any", "read-write", "read-only", "primary", "standby", "prefer-standby")
LOAD_BALANCE_HOSTS = ("disable", "random")
# libpq parameters the service cannot work with: Django sets client_encoding itself, and a
# replication connection runs no SQL.
REFUSED_PARAMETERS = frozenset({"client_encoding", "replication"})
# The parts of the URL that become Django's NAME, USER, PASSWORD, HOST and PORT.
URL_PARTS = frozenset({"dbname", "user", "password", "host", "port"})

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


def fail(reason: str) -> ImproperlyConfigured:
    return ImproperlyConfigured(f"DATABASE_URL {reason}")


@cache
def libpq_parameters() -> frozenset[str]:
    """Every connection parameter the libpq psycopg loaded knows, and psycopg's own ones."""
    from psycopg import pq

    known = {option.keyword.decode() for option in pq.Conninfo.get_defaults()}
    # psycopg handles these itself, whatever the libpq's version.
    known |= {"target_session_attrs", "load_balance_hosts"}
    return frozenset(known - URL_PARTS - REFUSED_PARAMETERS)


def connection_options(query: str) -> tuple[dict[str, str], list[str]]:
    """The query string translated to libpq parameters, and warnings for what was dropped."""
    options: dict[str, str] = {}
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
        elif key == "target_session_attrs":
            options[key] = one_of(key, value.lower(), TARGET_SESSION_ATTRS)
        elif key == "load_balance_hosts":
            options[key] = one_of(key, value.lower(), LOAD_BALANCE_HOSTS)
        elif key == "connect_timeout":
            if not value.isdigit():
                raise fail(f"has connect_timeout={value!r}: it must be a whole number of seconds.")
            options["connect_timeout"] = value
        elif key in DROPPED_OPTIONS:
            warnings.append(f"DATABASE_URL option {key!r} is for asyncpg only and was ignored.")
        elif key in REFUSED_PARAMETERS:
            raise fail(f"has the option {key!r}, which the service sets itself or cannot use.")
        elif key in libpq_parameters() or key in URL_PARTS:
            options[key] = value
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
