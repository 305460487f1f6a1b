"""The default stages (with their written definitions in English and French) and
qualification reasons of seeds 003 and 004; the exit time of each past stay in a stage,
from the history that followed it (velocity reports read them)."""

from django.db import migrations

from leadflow.lifecycle.defaults import reason_rows, stage_rows

EXIT_TIMES = """
UPDATE lifecycle_stagechange SET exited_at = (
    SELECT MIN(n.changed_at) FROM lifecycle_stagechange n
    WHERE n.lead_id = lifecycle_stagechange.lead_id
      AND (n.changed_at > lifecycle_stagechange.changed_at
           OR (n.changed_at = lifecycle_stagechange.changed_at
               AND n.id > lifecycle_stagechange.id)))
WHERE exited_at IS NULL
"""


def forwards(apps, schema_editor):
    StageDefinition = apps.get_model("lifecycle", "StageDefinition")
    QualificationReason = apps.get_model("lifecycle", "QualificationReason")
    for row in stage_rows():
        StageDefinition.objects.get_or_create(slug=row["slug"], defaults=row)
    for row in reason_rows():
        QualificationReason.objects.get_or_create(code=row["code"], defaults=row)
    schema_editor.execute(EXIT_TIMES)


def backwards(apps, schema_editor):
    apps.get_model("lifecycle", "StageDefinition").objects.all().delete()
    apps.get_model("lifecycle", "QualificationReason").objects.all().delete()


class Migration(migrations.Migration):

    dependencies = [("lifecycle", "0005_stage_definitions_rules_handoffs")]

    operations = [migrations.RunPython(forwards, backwards)]
