"""Migrations that change big tables on PostgreSQL: no lock held long enough to stop sign-ins,
and the schema they leave is the one databases migrated before them already have."""

from collections.abc import Iterator

import psycopg
import pytest
from django.core.management import call_command
from django.db import OperationalError, connection

from tests.support.markers import POSTGRESQL

pytestmark = POSTGRESQL

# The names Django gave the chain's foreign key and index when deployed databases were migrated.
CHAIN_FOREIGN_KEY = "accounts_refreshtoke_chain_id_63c026fe_fk_accounts_"
CHAIN_INDEX = "accounts_refreshtoken_chain_id_63c026fe"


@pytest.fixture
def before_refresh_token_chains() -> Iterator[None]:
    """The schema of migration 0008; every migration is applied again afterwards."""
    call_command("migrate", "accounts", "0008", verbosity=0)
    try:
        yield
    finally:
        call_command("migrate", verbosity=0)


def statements_of(*migrate_args: str) -> list[str]:
    """The SQL `migrate` sends, one entry per statement sent."""
    sent: list[str] = []

    def record(execute, sql, params, many, context):
        sent.append(str(sql))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        call_command("migrate", *migrate_args, verbosity=0)
    return sent


def test_refresh_token_chain_is_added_without_scanning_refresh_tokens_under_a_lock(
    before_refresh_token_chains,
):
    statements = statements_of("accounts", "0009")
    position = {sql: number for number, sql in enumerate(statements)}
    [timeout] = [sql for sql in statements if sql == "SET LOCAL lock_timeout = '5s'"]
    [create] = [sql for sql in statements if sql.startswith('CREATE TABLE "accounts_refreshtokenc')]
    [add_column] = [sql for sql in statements if '"accounts_refreshtoken" ADD COLUMN' in sql]
    [not_valid] = [sql for sql in statements if sql.endswith("NOT VALID")]
    assert position[timeout] < position[create] < position[add_column] < position[not_valid]
    assert CHAIN_FOREIGN_KEY in not_valid
    assert (
        f'ALTER TABLE "accounts_refreshtoken" VALIDATE CONSTRAINT "{CHAIN_FOREIGN_KEY}"'
        in statements
    )
    assert any(sql.startswith(f'CREATE INDEX CONCURRENTLY "{CHAIN_INDEX}"') for sql in statements)


@pytest.mark.slow
def test_refresh_token_chain_migration_gives_up_rather_than_queue_sign_ins_behind_a_reader(
    before_refresh_token_chains,
):
    """A long transaction reading refresh tokens: a migration waiting for it to end would hold
    up every write to the table. The reader is ended after 15 s, so a migration that waits
    finishes late instead of failing."""
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    with psycopg.connect(**params) as reader:
        reader.execute("SET LOCAL idle_in_transaction_session_timeout = '15s'")
        reader.execute("SELECT count(*) FROM accounts_refreshtoken")
        with pytest.raises(OperationalError, match="lock timeout"):
            call_command("migrate", "accounts", "0009", verbosity=0)
        reader.rollback()
    # All or nothing: no chain table was left behind, and the next run, with no reader in the
    # way, makes everything.
    assert "accounts_refreshtokenchain" not in connection.introspection.table_names()
    call_command("migrate", "accounts", "0009", verbosity=0)
    assert_chain_schema_complete()


def test_a_run_that_stopped_after_the_first_step_is_taken_up(before_refresh_token_chains):
    """Validation or the concurrent index build failed (or the deploy job was killed): the
    column is there, the index is not. The next run makes what is missing."""
    call_command("migrate", "accounts", "0009", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute(f'DROP INDEX "{CHAIN_INDEX}"')
        cursor.execute(
            "DELETE FROM django_migrations WHERE app = 'accounts' AND name LIKE '0009_%%'"
        )
    call_command("migrate", "accounts", "0009", verbosity=0)
    assert_chain_schema_complete()


def assert_chain_schema_complete() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT convalidated FROM pg_constraint WHERE conname = %s", [CHAIN_FOREIGN_KEY]
        )
        assert cursor.fetchall() == [(True,)]
        cursor.execute(
            "SELECT convalidated FROM pg_constraint WHERE contype = 'f'"
            " AND conrelid = 'accounts_refreshtokenchain'::regclass"
            " AND confrelid = 'accounts_authsession'::regclass"
        )
        assert cursor.fetchall() == [(True,)]  # the chain's own key to its session
        cursor.execute(
            "SELECT indexrelid::regclass::text, indisvalid FROM pg_index"
            " WHERE indrelid = 'accounts_refreshtokenchain'::regclass AND NOT indisprimary"
        )
        assert [valid for _, valid in cursor.fetchall()] == [True]  # its session_id index
        cursor.execute(
            "SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass(%s)", [CHAIN_INDEX]
        )
        assert cursor.fetchone() == (True,)


def test_refresh_token_chain_has_the_foreign_key_and_index_deployed_databases_have():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT convalidated, pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = %s",
            [CHAIN_FOREIGN_KEY],
        )
        assert cursor.fetchall() == [
            (
                True,
                "FOREIGN KEY (chain_id) REFERENCES accounts_refreshtokenchain(id)"
                " ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED",
            )
        ]
        cursor.execute(
            "SELECT indisvalid, pg_get_indexdef(indexrelid) FROM pg_index"
            " WHERE indexrelid = %s::regclass",
            [CHAIN_INDEX],
        )
        assert cursor.fetchall() == [
            (
                True,
                f"CREATE INDEX {CHAIN_INDEX} ON public.accounts_refreshtoken"
                " USING btree (chain_id)",
            )
        ]
