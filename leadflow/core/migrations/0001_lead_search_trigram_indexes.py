"""Trigram indexes for the leads search on PostgreSQL.

Django's `icontains` becomes `UPPER(col::text) LIKE UPPER('%q%')`, which no b-tree index
can serve: on 100k leads that is a sequential scan of about 300 ms. A GIN index on the
same UPPER(...) expression with gin_trgm_ops turns it into an index scan. SQLite has no
such index; its scan is fast enough at the sizes it is meant for.
"""

from django.db import migrations

COLUMNS = ("email", "first_name", "last_name", "company_name")


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for column in COLUMNS:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS lead_{column}_trgm ON leads_lead "
            f"USING gin ((UPPER({column}::text)) gin_trgm_ops)")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in COLUMNS:
        schema_editor.execute(f"DROP INDEX IF EXISTS lead_{column}_trgm")


class Migration(migrations.Migration):
    dependencies = [("leads", "0001_initial")]
    operations = [migrations.RunPython(create, drop, elidable=False)]
