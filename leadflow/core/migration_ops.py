"""Index changes that a large, live table can take during an upgrade.

Django's own operations would lock it: AlterField(db_index=False) on a foreign key drops
and re-adds the constraint, which re-checks every row under a lock (and on SQLite rebuilds
the table), and AddIndex/RemoveIndex block writes while they run. These operations touch
the indexes only, CONCURRENTLY on PostgreSQL; the migrations using them are non-atomic
(PostgreSQL builds a concurrent index outside any transaction) and pair them with the
state operations in SeparateDatabaseAndState.
"""

from __future__ import annotations

from django.db import migrations, models


def _exists(schema_editor, table: str, name: str) -> bool:
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        return name in connection.introspection.get_constraints(cursor, table)


def _drop(schema_editor, table: str, name: str) -> None:
    if _exists(schema_editor, table, name):
        concurrently = " CONCURRENTLY" if schema_editor.connection.vendor == "postgresql" else ""
        schema_editor.execute(f"DROP INDEX{concurrently} {schema_editor.quote_name(name)}")


def _create(schema_editor, model, index: models.Index) -> None:
    if _exists(schema_editor, model._meta.db_table, index.name):
        return
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.add_index(model, index, concurrently=True)
    else:
        schema_editor.add_index(model, index)


def replace_indexes(app_label: str, model_name: str, *, drop: list[models.Index],
                    add: list[models.Index] | None = None,
                    postgresql_only: tuple[str, ...] = ()) -> migrations.RunPython:
    """Build the indexes `add`, then drop those in `drop` (described in full, so that a
    reversed migration builds them again). Names in `postgresql_only` exist only there
    (the LIKE indexes Django adds to indexed text columns)."""

    def forwards(apps, schema_editor):
        model = apps.get_model(app_label, model_name)
        for index in add or ():
            _create(schema_editor, model, index)
        for index in drop:
            _drop(schema_editor, model._meta.db_table, index.name)

    def backwards(apps, schema_editor):
        model = apps.get_model(app_label, model_name)
        postgresql = schema_editor.connection.vendor == "postgresql"
        for index in drop:
            if postgresql or index.name not in postgresql_only:
                _create(schema_editor, model, index)
        for index in add or ():
            _drop(schema_editor, model._meta.db_table, index.name)

    return migrations.RunPython(forwards, backwards, elidable=False)
