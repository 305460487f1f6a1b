"""Leave a fifth of each page of leads_lead free (PostgreSQL).

Every batch of events rewrites the rows of the leads it concerns (last touch, score). An
update that changes no indexed column can stay on its page (a HOT update) and then costs
no index entry, but only when the page has room: full pages made a third of those
updates write to all of the table's indexes, trigram indexes included.
"""

from django.db import migrations


def set_fillfactor(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE leads_lead SET (fillfactor = 80)")


def reset_fillfactor(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE leads_lead RESET (fillfactor)")


class Migration(migrations.Migration):
    dependencies = [("leads", "0002_quality_dedupe_privacy")]
    operations = [migrations.RunPython(set_fillfactor, reset_fillfactor, elidable=False)]
