"""DATABASE_URL with libpq's host lists (how a client follows a PostgreSQL failover), read by
libpq's own parser: accepted, labelled without the password, and really connecting to whichever
host is the primary."""

from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import OperationalError
from django.db.utils import ConnectionHandler

from tests.support.commands import run_manage
from tests.support.database_urls import assert_refused_in_one_sentence, parse
from tests.support.pgcluster import free_port

FAILOVER_URL = (
    "postgresql://u:hunter2@db1.internal:5432,db2.internal:5432/app?target_session_attrs=read-write"
)


def test_a_host_list_becomes_libpqs_host_and_port_lists():
    config = parse(FAILOVER_URL)
    db = config.settings
    assert (db["HOST"], db["PORT"], db["NAME"], db["USER"], db["PASSWORD"]) == (
        "db1.internal,db2.internal",
        "5432,5432",
        "app",
        "u",
        "hunter2",
    )
    assert db["OPTIONS"]["target_session_attrs"] == "read-write"
    assert config.label == "postgresql://u@db1.internal:5432,db2.internal:5432/app"


@pytest.mark.parametrize(
    "scheme", ["postgresql", "postgres", "postgresql+asyncpg", "postgresql+psycopg"]
)
def test_every_scheme_takes_a_host_list(scheme):
    config = parse(f"{scheme}://u:pw@h1:5432,h2:5433/app?ssl=require")
    assert config.settings["HOST"] == "h1,h2"
    assert config.settings["PORT"] == "5432,5433"
    assert config.settings["OPTIONS"]["sslmode"] == "require"


def test_a_host_without_a_port_gets_the_default_port_as_libpq_says():
    config = parse("postgresql://u:pw@h1,h2:6000/app")
    assert (config.settings["HOST"], config.settings["PORT"]) == ("h1,h2", ",6000")
    assert config.label == "postgresql://u@h1,h2:6000/app"
    config = parse("postgresql://u:pw@h1,h2/app")
    assert (config.settings["HOST"], config.settings["PORT"]) == ("h1,h2", ",")
    assert config.label == "postgresql://u@h1,h2/app"


@pytest.mark.parametrize(
    "attrs", ["any", "read-write", "read-only", "primary", "standby", "prefer-standby"]
)
def test_every_target_session_attrs_of_libpq_is_passed_on(attrs):
    url = f"postgresql://u:pw@h1,h2/app?target_session_attrs={attrs}"
    assert parse(url).settings["OPTIONS"]["target_session_attrs"] == attrs


def test_load_balance_hosts_is_passed_on():
    config = parse("postgresql://u:pw@h1,h2,h3/app?load_balance_hosts=random")
    assert config.settings["OPTIONS"]["load_balance_hosts"] == "random"


def test_ipv6_hosts_in_a_list_keep_their_brackets_in_the_label():
    config = parse("postgresql://u:pw@[::1]:5432,[2001:db8::7]:5433/app")
    assert config.settings["HOST"] == "::1,2001:db8::7"
    assert config.label == "postgresql://u@[::1]:5432,[2001:db8::7]:5433/app"


def test_other_libpq_parameters_pass_through():
    config = parse(
        "postgresql://u:pw@h/app?keepalives_idle=30&tcp_user_timeout=10000&sslnegotiation=direct"
        "&sslmode=require"
    )
    options = config.settings["OPTIONS"]
    assert options["keepalives_idle"] == "30"
    assert options["tcp_user_timeout"] == "10000"
    assert options["sslnegotiation"] == "direct"


def test_a_pooler_anywhere_in_the_list_counts_as_a_pooler():
    config = parse("postgresql://u:pw@db1.internal:6432,db2.internal:6432/app")
    assert config.settings["DISABLE_SERVER_SIDE_CURSORS"] is True
    assert "options" not in config.settings["OPTIONS"]


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("postgresql://u:hunter2@h1:5432,h2:99999/db", "malformed host or port"),
        ("postgresql://u:hunter2@h1:5432,h2:x/db", "malformed host or port"),
        ("postgresql://u:hunter2@h1,h2,h3/db?port=1,2", "3 host(s) and 2 ports"),
        ("postgresql://u:hunter2@h1,,h2/db", "empty entry in its host list"),
        ("postgresql://u:hunter2@h1,h2/db?target_session_attrs=writable", "use one of any,"),
        ("postgresql://u:hunter2@h1,h2/db?load_balance_hosts=yes", "load_balance_hosts='yes'"),
        ("postgresql://u:hunter2@h1,h2/db?replication=true", "option 'replication'"),
        ("postgresql://u:hunter2@h1,h2/db?client_encoding=latin1", "option 'client_encoding'"),
        ("postgresql://u:hunt%ZZer2@h1,h2/db", "is malformed: percent-encode"),
        ("postgresql://u:hunter2@h1,h2/db#ter2", "has a '#'"),
    ],
)
def test_bad_host_lists_fail_in_one_sentence_without_the_password(url, message):
    assert_refused_in_one_sentence(url, message, "ter2", "%ZZ")


def test_the_service_starts_with_a_host_list():
    """It refused to: 'DATABASE_URL has a malformed host or port'."""
    result = run_manage("check", DATABASE_URL=FAILOVER_URL)
    assert result.returncode == 0, result.stderr
    assert "hunter2" not in result.stdout + result.stderr


def suite_server_url(hosts: str, query: str) -> str:
    db = settings.DATABASES["default"]
    return (
        f"postgresql://{quote(db['USER'])}:{quote(db['PASSWORD'], safe='')}@{hosts}"
        f"/{db['NAME']}?{query}"
    )


def connect_and_read_port(url: str) -> int:
    config = parse(url)
    config.settings["OPTIONS"].pop("pool")
    connection = ConnectionHandler({"default": config.settings})["default"]
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT inet_server_port()")
            return int(cursor.fetchone()[0])
    finally:
        connection.close()


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_a_dead_first_host_is_passed_over_for_the_next():
    port = settings.DATABASES["default"]["PORT"]
    hosts = f"127.0.0.1:{free_port()},127.0.0.1:{port}"
    url = suite_server_url(hosts, "target_session_attrs=read-write&sslmode=require")
    assert connect_and_read_port(url) == int(port)


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attrs", ["primary", "prefer-standby"])
def test_libpqs_newer_session_attributes_connect_to_a_lone_primary(attrs):
    port = settings.DATABASES["default"]["PORT"]
    url = suite_server_url(f"127.0.0.1:{port}", f"target_session_attrs={attrs}")
    assert connect_and_read_port(url) == int(port)


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_no_host_that_fits_is_an_error_without_the_password():
    port = settings.DATABASES["default"]["PORT"]
    url = suite_server_url(
        f"127.0.0.1:{free_port()},127.0.0.1:{port}", "target_session_attrs=standby"
    )
    with pytest.raises(OperationalError) as raised:
        connect_and_read_port(url)
    assert settings.DATABASES["default"]["PASSWORD"] not in str(raised.value)
