"""The fast path's pool check: trusted for a moment after a checkout, checked after that."""

import pytest

from tests.project.test_database import server_url


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_pool_check_trusts_a_connection_lent_moments_ago_and_checks_an_older_one():
    import psycopg
    from django.db import connection

    from fastpath.pool import TRUSTED_FOR_SECONDS, connection_check, lent_at

    with psycopg.connect(server_url("postgresql", query="sslmode=disable")) as lent:
        connection_check(lent)  # first checkout: a real round trip
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [lent.info.backend_pid])
        connection_check(lent)  # lent a moment ago: trusted, no round trip to notice
        lent_at[lent] -= TRUSTED_FOR_SECONDS + 1
        with pytest.raises(psycopg.OperationalError):
            connection_check(lent)  # older: checked, and the dead backend is found


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_pool_check_refuses_a_closed_connection_at_once():
    import psycopg

    from fastpath.pool import connection_check

    lent = psycopg.connect(server_url("postgresql", query="sslmode=disable"))
    connection_check(lent)
    lent.close()
    with pytest.raises(ConnectionError):
        connection_check(lent)
