"""Issue 10 renamed two stages: "new" is now "lead" and "won" is now "customer". The stage
history, the thresholds and the `stage_changed` events of the timeline follow (the `won`
event, a deal won, keeps its name)."""

from django.db import migrations

RENAMED = {"new": "lead", "won": "customer"}


def _rename(schema_editor, names: dict[str, str]) -> None:
    cursor = schema_editor.connection.cursor()
    postgres = schema_editor.connection.vendor == "postgresql"
    for old, new in names.items():
        cursor.execute("UPDATE lifecycle_stagechange SET from_stage = %s WHERE from_stage = %s",
                       [new, old])
        cursor.execute("UPDATE lifecycle_stagechange SET to_stage = %s WHERE to_stage = %s",
                       [new, old])
        cursor.execute("UPDATE lifecycle_stagethreshold SET stage = %s WHERE stage = %s",
                       [new, old])
        for key in ("from", "to"):
            if postgres:
                cursor.execute(
                    "UPDATE tracking_event SET properties = jsonb_set(properties, %s, "
                    "to_jsonb(%s::text)) WHERE type = 'stage_changed' "
                    "AND properties->>%s = %s", [[key], new, key, old])
            else:
                cursor.execute(
                    "UPDATE tracking_event SET properties = json_set(properties, %s, %s) "
                    "WHERE type = 'stage_changed' AND json_extract(properties, %s) = %s",
                    [f"$.{key}", new, f"$.{key}", old])


def forwards(apps, schema_editor):
    _rename(schema_editor, RENAMED)


def backwards(apps, schema_editor):
    _rename(schema_editor, {new: old for old, new in RENAMED.items()})


class Migration(migrations.Migration):

    dependencies = [
        ("lifecycle", "0002_verbose_names"),
        ("leads", "0006_bant_grade_closed_stage_names"),
        ("tracking", "0008_verbose_names"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
