"""Decay: the claim row of the periodic job, and one key per decay line (partial unique
indexes: the rule lines pay no write for them), built CONCURRENTLY on PostgreSQL since the
score entry table is large and live."""

import django.db.models.deletion
import leadflow.scoring.models
from django.db import migrations, models

INACTIVITY = models.UniqueConstraint(condition=models.Q(("kind", "inactivity")),
                                     fields=("lead", "group", "occurred_at"),
                                     name="score_entry_inactivity_once")
HALF_LIFE = models.UniqueConstraint(condition=models.Q(("kind", "half_life")),
                                    fields=("lead", "group"), name="score_entry_half_life_once")
SQL = {
    INACTIVITY.name: "(lead_id, group_id, occurred_at) WHERE kind = 'inactivity'",
    HALF_LIFE.name: "(lead_id, group_id) WHERE kind = 'half_life'",
}


def build(apps, schema_editor):
    model = apps.get_model("scoring", "ScoreEntry")
    for constraint in (INACTIVITY, HALF_LIFE):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f"CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS "
                                  f"{constraint.name} ON scoring_scoreentry "
                                  f"{SQL[constraint.name]}")
        else:
            schema_editor.add_constraint(model, constraint)


def drop(apps, schema_editor):
    concurrently = " CONCURRENTLY" if schema_editor.connection.vendor == "postgresql" else ""
    for constraint in (INACTIVITY, HALF_LIFE):
        schema_editor.execute(f"DROP INDEX{concurrently} IF EXISTS {constraint.name}")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ('leads', '0006_bant_grade_closed_stage_names'),
        ('scoring', '0007_rule_group_default_primary'),
        ('tracking', '0008_verbose_names'),
    ]

    operations = [
        migrations.CreateModel(
            name='DecayRun',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('attempts', models.PositiveIntegerField(default=0, verbose_name='attempts')),
                ('claimed_by', models.CharField(blank=True, default='', max_length=64, verbose_name='claimed by')),
                ('name', models.CharField(default='decay', max_length=20, unique=True, verbose_name='name')),
                ('due_at', models.DateTimeField(blank=True, null=True, verbose_name='next run')),
                ('last_error', models.TextField(blank=True, verbose_name='last error')),
                ('ran_at', models.DateTimeField(blank=True, null=True, verbose_name='last run')),
            ],
            options={
                'verbose_name': 'score decay run',
                'verbose_name_plural': 'score decay runs',
            },
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddConstraint(model_name="scoreentry", constraint=INACTIVITY),
                migrations.AddConstraint(model_name="scoreentry", constraint=HALF_LIFE),
            ],
            database_operations=[migrations.RunPython(build, drop, elidable=False)],
        ),
    ]
