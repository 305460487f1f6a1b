"""Score entries: the lead and rule indexes only repeated the leading column of
score_entry_lead_rule_idx and score_entry_once. Dropped without re-checking the foreign
keys (leadflow.core.migration_ops)."""

import django.db.models.deletion
from django.db import migrations, models

from leadflow.core.migration_ops import replace_indexes


class Migration(migrations.Migration):
    atomic = False  # PostgreSQL drops indexes CONCURRENTLY outside transactions

    dependencies = [
        ("leads", "0003_fewer_lead_indexes"),
        ("scoring", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[replace_indexes("scoring", "ScoreEntry", drop=[
                models.Index(fields=["lead"], name="scoring_scoreentry_lead_id_ea43bc95"),
                models.Index(fields=["rule"], name="scoring_scoreentry_rule_id_2876801c"),
            ])],
            state_operations=[
                migrations.AlterField(
                    model_name="scoreentry",
                    name="lead",
                    field=models.ForeignKey(
                        db_index=False, on_delete=django.db.models.deletion.CASCADE,
                        related_name="score_entries", to="leads.lead"),
                ),
                migrations.AlterField(
                    model_name="scoreentry",
                    name="rule",
                    field=models.ForeignKey(
                        blank=True, db_index=False, null=True,
                        on_delete=django.db.models.deletion.SET_NULL, to="scoring.scorerule"),
                ),
            ],
        ),
    ]
