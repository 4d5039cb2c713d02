"""Refresh tokens belong to a chain (RefreshTokenChain). The chain is nullable: tokens of the
release before it have none; their next rotation starts one.

On PostgreSQL the chain goes onto the big refresh token table without a lock that would stop
sign-ins, in three steps, each of which a later run takes up where an earlier one stopped:

1. One short transaction, giving up after 5 s waiting for a lock rather than queueing every
   sign-in behind it: the (empty) chain table with its key to sessions and its index, and the
   refresh tokens' nullable column with its foreign key NOT VALID (no scan). All or nothing:
   skipped when the column is there.
2. The foreign key validated in a statement of its own, which lets writes go on.
3. The index built concurrently (an invalid one left by a build that failed is dropped first).

Hence a non-atomic migration. The names and definitions are those of Django's own CreateModel
and AddField, which databases migrated earlier have. Other databases migrate as Django does.
"""

import uuid

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models, transaction

FOREIGN_KEY_SUFFIX = "_fk_%(to_table)s_%(to_column)s"


def postgresql(schema_editor) -> bool:
    return schema_editor.connection.vendor == "postgresql"


class CreateChainModel(migrations.CreateModel):
    """On PostgreSQL the table is made in AddChainWithoutLongLock's first step."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if not postgresql(schema_editor):
            super().database_forwards(app_label, schema_editor, from_state, to_state)


class AddChainWithoutLongLock(migrations.AddField):
    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if not postgresql(schema_editor):
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        model = to_state.apps.get_model(app_label, self.model_name)
        field = model._meta.get_field(self.name)
        table, column = model._meta.db_table, field.column
        connection = schema_editor.connection
        with connection.cursor() as cursor:
            columns = connection.introspection.get_table_description(cursor, table)
        if column not in {each.name for each in columns}:
            with transaction.atomic(using=connection.alias):
                schema_editor.execute("SET LOCAL lock_timeout = '5s'")
                schema_editor.create_model(field.related_model)
                # Its key to sessions and its index, which Django holds back to the end of
                # the migration: made here, inside this all-or-nothing step.
                for statement in schema_editor.deferred_sql:
                    schema_editor.execute(statement)
                schema_editor.deferred_sql.clear()
                definition, _ = schema_editor.column_sql(model, field)
                schema_editor.execute(f'ALTER TABLE "{table}" ADD COLUMN "{column}" {definition}')
                foreign_key = schema_editor._create_fk_sql(model, field, FOREIGN_KEY_SUFFIX)
                schema_editor.execute(f"{foreign_key} NOT VALID")
        constraint = schema_editor._fk_constraint_name(model, field, FOREIGN_KEY_SUFFIX)
        schema_editor.execute(f'ALTER TABLE "{table}" VALIDATE CONSTRAINT {constraint}')
        index = schema_editor._create_index_name(table, [column])
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass(%s)", [index]
            )
            found = cursor.fetchone()
        if found is not None and not found[0]:
            schema_editor.execute(f'DROP INDEX CONCURRENTLY "{index}"')
        if found is None or not found[0]:
            statement = schema_editor._create_index_sql(model, fields=[field], concurrently=True)
            schema_editor.execute(statement, params=None)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if not postgresql(schema_editor):
            return super().database_backwards(app_label, schema_editor, from_state, to_state)
        model = from_state.apps.get_model(app_label, self.model_name)
        field = model._meta.get_field(self.name)
        with transaction.atomic(using=schema_editor.connection.alias):
            schema_editor.execute("SET LOCAL lock_timeout = '5s'")
            schema_editor.remove_field(model, field)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("accounts", "0008_session_cascades_in_the_database"),
    ]

    operations = [
        CreateChainModel(
            name="RefreshTokenChain",
            fields=[
                (
                    "id",
                    models.UUIDField(
                        default=uuid.uuid4, editable=False, primary_key=True, serialize=False
                    ),
                ),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("proved_at", models.DateTimeField(blank=True, null=True)),
                (
                    "session",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.DB_CASCADE,
                        related_name="chains",
                        to="accounts.authsession",
                    ),
                ),
            ],
        ),
        AddChainWithoutLongLock(
            model_name="refreshtoken",
            name="chain",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.DB_CASCADE,
                related_name="refresh_tokens",
                to="accounts.refreshtokenchain",
            ),
        ),
    ]
