"""DATABASE_URL in every spelling: parsed right, refused in one sentence, and really connecting."""

from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db.utils import ConnectionHandler

from project.database import database_config_from_url
from tests.support.database_urls import BASE, POOL, assert_refused_in_one_sentence, parse

NEON = "ep-cool-darkness-123456-pooler.us-east-2.aws.neon.tech"


@pytest.mark.parametrize(
    "scheme",
    ["postgresql", "postgres", "postgresql+asyncpg", "postgresql+psycopg", "POSTGRESQL"],
)
def test_every_postgres_scheme_gives_the_same_settings(scheme):
    config = parse(f"{scheme}://alice:secret@db.example.com:6543/app")
    assert config.is_postgresql
    db = config.settings
    assert (db["NAME"], db["USER"], db["PASSWORD"], db["HOST"], db["PORT"]) == (
        "app",
        "alice",
        "secret",
        "db.example.com",
        "6543",
    )
    assert db["OPTIONS"]["pool"]["max_size"] == 4
    assert db["OPTIONS"]["connect_timeout"] == 3
    assert "CONN_HEALTH_CHECKS" not in db  # no effect with a pool: the pool's check does it
    assert db["CONN_MAX_AGE"] == 0


def test_neon_libpq_spelling_keeps_sslmode_and_channel_binding():
    config = parse(
        f"postgresql://neondb_owner:pw@{NEON}/neondb?sslmode=require&channel_binding=require"
    )
    options = config.settings["OPTIONS"]
    assert options["sslmode"] == "require"
    assert options["channel_binding"] == "require"


def test_neon_pooler_host_gets_no_server_side_cursors_and_no_startup_options():
    config = parse(f"postgresql://u:pw@{NEON}/neondb?sslmode=require")
    assert config.settings["DISABLE_SERVER_SIDE_CURSORS"] is True
    assert "options" not in config.settings["OPTIONS"]
    assert "prepare_threshold" not in config.settings["OPTIONS"]  # Django's default: None


@pytest.mark.parametrize(
    "host_and_port",
    [
        "aws-0-eu-central-1.pooler.supabase.com:6543",
        "db.example.com:6432",  # PgBouncer's customary port
        f"{NEON}:5432",
    ],
)
def test_pooler_hosts_are_recognised(host_and_port):
    config = parse(f"postgresql://u:pw@{host_and_port}/app")
    assert config.settings["DISABLE_SERVER_SIDE_CURSORS"] is True
    assert "options" not in config.settings["OPTIONS"]


@pytest.mark.parametrize(("pooler", "expected"), [(True, True), (False, False)])
def test_db_pooler_on_or_off_overrides_the_guess(pooler, expected):
    import dataclasses

    pool = dataclasses.replace(POOL, pooler=pooler)
    config = database_config_from_url(f"postgresql://u:pw@{NEON}/app", base_dir=BASE, pool=pool)
    assert config.settings["DISABLE_SERVER_SIDE_CURSORS"] is expected
    assert ("options" in config.settings["OPTIONS"]) is not expected


def test_the_pool_check_is_the_one_given():
    import dataclasses

    def check(connection):
        return None

    config = database_config_from_url(
        "postgresql://u:pw@db.example.com/app",
        base_dir=BASE,
        pool=dataclasses.replace(POOL, check=check),
    )
    assert config.settings["OPTIONS"]["pool"]["check"] is check
    assert "check" not in parse("postgresql://u:pw@db.example.com/app").settings["OPTIONS"]["pool"]


def test_direct_host_gets_a_statement_timeout():
    config = parse("postgresql://u:pw@db.example.com/app")
    assert config.settings["DISABLE_SERVER_SIDE_CURSORS"] is False
    assert config.settings["OPTIONS"]["options"] == "-c statement_timeout=30000"


@pytest.mark.parametrize(
    ("ssl", "sslmode"),
    [
        ("require", "require"),
        ("true", "require"),
        ("True", "require"),
        ("1", "require"),
        ("false", "disable"),
        ("0", "disable"),
        ("disable", "disable"),
        ("prefer", "prefer"),
        ("verify-full", "verify-full"),
    ],
)
def test_asyncpg_ssl_option_becomes_sslmode(ssl, sslmode):
    config = parse(f"postgresql+asyncpg://u:pw@{NEON}/neondb?ssl={ssl}")
    assert config.settings["OPTIONS"]["sslmode"] == sslmode
    assert "ssl" not in config.settings["OPTIONS"]


def test_asyncpg_only_options_are_dropped_with_a_warning():
    config = parse("postgresql+asyncpg://u:pw@h/db?ssl=require&prepared_statement_cache_size=0")
    assert "prepared_statement_cache_size" not in config.settings["OPTIONS"]
    assert config.warnings == [
        "DATABASE_URL option 'prepared_statement_cache_size' is for asyncpg only and was ignored."
    ]


def test_percent_encoded_password_and_user_are_decoded():
    config = parse("postgres://we%40rd:p%40ss%3Aw%2Frd%3F%23@h:5432/db")
    assert config.settings["USER"] == "we@rd"
    assert config.settings["PASSWORD"] == "p@ss:w/rd?#"


def test_ipv6_host_in_brackets():
    config = parse("postgresql://u:pw@[::1]:5433/db")
    assert config.settings["HOST"] == "::1"
    assert config.settings["PORT"] == "5433"
    assert config.label == "postgresql://u@[::1]:5433/db"


def test_connect_timeout_in_the_url_wins():
    assert (
        parse("postgresql://u:pw@h/db?connect_timeout=10").settings["OPTIONS"]["connect_timeout"]
        == 10
    )


def test_label_never_contains_the_password():
    config = parse("postgresql://alice:hunter2secret@h:5432/db?sslmode=require")
    assert "hunter2secret" not in config.label
    assert config.label == "postgresql://alice@h:5432/db"


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("sqlite:///db.sqlite3", BASE / "db.sqlite3"),
        ("sqlite:///data/app.sqlite3", BASE / "data/app.sqlite3"),
        ("sqlite:////var/lib/app.sqlite3", Path("/var/lib/app.sqlite3")),
    ],
)
def test_sqlite_paths(url, name):
    config = parse(url)
    assert config.settings["ENGINE"] == "django.db.backends.sqlite3"
    assert config.settings["NAME"] == name


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://u:hunter2@h/db", "unsupported scheme 'mysql'"),
        ("hunter2", "is not a URL"),
        ("postgresql://u:hunter2@h:notaport/db", "malformed host or port"),
        ("postgresql://u:hunter2@h:99999/db", "malformed host or port"),
        ("postgresql://u:hunter2@/db", "names no host"),
        ("postgresql://u:hunter2@h", "names no database"),
        ("postgresql://u:hunter2@h/db?sslmode=sometimes", "sslmode='sometimes'"),
        ("postgresql://u:hunter2@h/db?ssl=maybe", "ssl='maybe'"),
        ("postgresql://u:hunter2@h/db?channel_binding=always", "channel_binding='always'"),
        ("postgresql://u:hunter2@h/db?connect_timeout=soon", "connect_timeout='soon'"),
        ("postgresql://u:hunter2@h/db?pgbouncer=true", "unknown option 'pgbouncer'"),
        ("postgresql://u:hunter2@h/db?sslmode=disable&ssl=require", "both sslmode= and ssl="),
        ("postgresql://u:hun?ter2@h/db", "malformed host or port"),
        ("postgresql://u:hunter2@h/db?pa@ss/x=1", "malformed query string"),
        ("postgresql://u:hunter2@h/db?justaword", "malformed query string"),
        ("sqlite://", "names no SQLite file"),
    ],
)
def test_bad_urls_fail_in_one_sentence_without_the_password(url, message):
    assert_refused_in_one_sentence(url, message, "ter2")


def connect_and_read_ssl(url: str) -> tuple[bool, str]:
    """Connect through Django's backend with exactly this URL; return (ssl?, server version)."""
    config = parse(url)
    config.settings["OPTIONS"].pop("pool")  # a plain connection: this is about the handshake
    # A handler of its own: the suite's "default" connection is left alone.
    connection = ConnectionHandler({"default": config.settings})["default"]
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
            encrypted = cursor.fetchone()[0]
            cursor.execute("SHOW server_version")
            version = cursor.fetchone()[0]
    finally:
        connection.close()
    return encrypted, version


def server_url(scheme: str = "postgresql", host: str | None = None, query: str = "") -> str:
    db = settings.DATABASES["default"]
    host = host or db["HOST"]
    host = f"[{host}]" if ":" in host else host
    suffix = f"?{query}" if query else ""
    return (
        f"{scheme}://{quote(db['USER'])}:{quote(db['PASSWORD'], safe='')}@{host}:{db['PORT']}"
        f"/{db['NAME']}{suffix}"
    )


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("scheme", "query", "encrypted"),
    [
        ("postgresql", "sslmode=require&channel_binding=require", True),
        ("postgresql+asyncpg", "ssl=require", True),
        ("postgres", "ssl=true", True),
        ("postgresql+psycopg", "sslmode=disable", False),
        ("postgresql+asyncpg", "ssl=false&statement_cache_size=0", False),
    ],
)
def test_really_connects_with_each_spelling(scheme, query, encrypted):
    assert connect_and_read_ssl(server_url(scheme, query=query))[0] is encrypted


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_really_connects_over_ipv6_loopback():
    assert connect_and_read_ssl(server_url(host="::1", query="sslmode=require"))[0] is True


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_really_connects_with_a_percent_encoded_password(django_db_blocker):
    from django.db import connection

    awkward = "p@ss:w/rd?#%&= x"
    with connection.cursor() as cursor:
        cursor.execute("DROP ROLE IF EXISTS awkward_user")
        cursor.execute(f"CREATE ROLE awkward_user LOGIN PASSWORD '{awkward}'")
    try:
        db = settings.DATABASES["default"]
        url = (
            f"postgres://awkward_user:{quote(awkward, safe='')}@{db['HOST']}:{db['PORT']}"
            f"/{db['NAME']}?sslmode=require&channel_binding=require"
        )
        assert connect_and_read_ssl(url)[0] is True
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP ROLE awkward_user")
