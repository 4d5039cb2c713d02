"""Refresh tokens belong to a chain (RefreshTokenChain). The chain is nullable: tokens of the
release before it have none; their next rotation starts one.

On PostgreSQL the chain's column goes onto the big refresh token table without a lock that
would stop sign-ins: the column and its foreign key, NOT VALID, are added in one short
transaction (which gives up after 5 s waiting for its lock, rather than queueing every sign-in
behind it), the foreign key is validated in a transaction of its own and the index is built
concurrently, both letting writes go on. Hence a non-atomic migration: if it gives up, the new
accounts_refreshtokenchain table (empty) stays, and running it again takes it as it is. The names
and definitions are those of Django's own AddField, which databases migrated earlier have.
Other databases add the field as Django does.
"""

import uuid

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models

FOREIGN_KEY_SUFFIX = "_fk_%(to_table)s_%(to_column)s"


class CreateModelUnlessMade(migrations.CreateModel):
    """A run that gave up waiting for its lock had made the table already."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        model = to_state.apps.get_model(app_label, self.name)
        if model._meta.db_table in schema_editor.connection.introspection.table_names():
            return
        super().database_forwards(app_label, schema_editor, from_state, to_state)


class AddForeignKeyWithoutLongLock(migrations.AddField):
    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        model = to_state.apps.get_model(app_label, self.model_name)
        field = model._meta.get_field(self.name)
        table, column = model._meta.db_table, field.column
        definition, _ = schema_editor.column_sql(model, field)
        constraint = schema_editor._fk_constraint_name(model, field, FOREIGN_KEY_SUFFIX)
        foreign_key = schema_editor._create_fk_sql(model, field, FOREIGN_KEY_SUFFIX)
        schema_editor.execute(
            f"SET LOCAL lock_timeout = '5s'; "
            f'ALTER TABLE "{table}" ADD COLUMN "{column}" {definition}; '
            f"{foreign_key} NOT VALID"
        )
        schema_editor.execute(f'ALTER TABLE "{table}" VALIDATE CONSTRAINT {constraint}')
        index = schema_editor._create_index_sql(model, fields=[field], concurrently=True)
        schema_editor.execute(index, params=None)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("accounts", "0008_session_cascades_in_the_database"),
    ]

    operations = [
        CreateModelUnlessMade(
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
        AddForeignKeyWithoutLongLock(
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
