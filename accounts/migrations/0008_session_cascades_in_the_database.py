"""Sessions and refresh tokens cascade in the database (DB_CASCADE, DB_SET_NULL): deleting dead
sessions in batches is one DELETE each, not a Python collector loading every refresh token.

On PostgreSQL the foreign keys are replaced without scanning the big tables under a lock that
would stop sign-ins: each is dropped and added again NOT VALID in one short statement (which
gives up after 5 s waiting for its lock, rather than queueing every sign-in behind it), then
validated in a transaction of its own, which lets writes go on. Hence a non-atomic migration.
Other databases alter the fields as Django does.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

ACTIONS = {
    django.db.models.deletion.DB_CASCADE: "ON DELETE CASCADE",
    django.db.models.deletion.DB_SET_NULL: "ON DELETE SET NULL",
}


class AlterForeignKeyWithoutLongLock(migrations.AlterField):
    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        self.replace(app_label, schema_editor, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            return super().database_backwards(app_label, schema_editor, from_state, to_state)
        self.replace(app_label, schema_editor, to_state)

    def replace(self, app_label, schema_editor, state):
        model = state.apps.get_model(app_label, self.model_name)
        field = model._meta.get_field(self.name)
        table, column = model._meta.db_table, field.column
        referenced = field.remote_field.model._meta.db_table
        constraint = schema_editor._fk_constraint_name(model, field, "_fk_%(to_table)s_%(to_column)s")
        [name] = schema_editor._constraint_names(model, [column], foreign_key=True)
        action = ACTIONS.get(field.remote_field.on_delete, "")
        schema_editor.execute(
            f"SET LOCAL lock_timeout = '5s'; "
            f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}", ADD CONSTRAINT {constraint} '
            f'FOREIGN KEY ("{column}") REFERENCES "{referenced}" ("id") {action} '
            "DEFERRABLE INITIALLY DEFERRED NOT VALID"
        )
        schema_editor.execute(f'ALTER TABLE "{table}" VALIDATE CONSTRAINT {constraint}')


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("accounts", "0007_account_deletion"),
    ]

    operations = [
        AlterForeignKeyWithoutLongLock(
            model_name="authsession",
            name="user",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.DB_CASCADE,
                related_name="auth_sessions",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        AlterForeignKeyWithoutLongLock(
            model_name="refreshtoken",
            name="parent",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.DB_SET_NULL,
                related_name="children",
                to="accounts.refreshtoken",
            ),
        ),
        AlterForeignKeyWithoutLongLock(
            model_name="refreshtoken",
            name="session",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.DB_CASCADE,
                related_name="refresh_tokens",
                to="accounts.authsession",
            ),
        ),
    ]
