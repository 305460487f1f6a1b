"""Opt-in requests: the lead index only repeated the leading column of optin_lead_idx.
Dropped without re-checking the foreign key (leadflow.core.migration_ops)."""

import django.db.models.deletion
from django.db import migrations, models

from leadflow.core.migration_ops import replace_indexes


class Migration(migrations.Migration):
    atomic = False  # PostgreSQL drops indexes CONCURRENTLY outside transactions

    dependencies = [
        ("capture", "0002_form_builder"),
        ("leads", "0003_fewer_lead_indexes"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[replace_indexes("capture", "OptInRequest", drop=[
                models.Index(fields=["lead"], name="capture_optinrequest_lead_id_ea03c4d8"),
            ])],
            state_operations=[
                migrations.AlterField(
                    model_name="optinrequest",
                    name="lead",
                    field=models.ForeignKey(
                        db_index=False, on_delete=django.db.models.deletion.CASCADE,
                        related_name="optins", to="leads.lead"),
                ),
            ],
        ),
    ]
