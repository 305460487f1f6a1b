"""Events: the lead index only repeated the leading column of event_lead_time_idx. Dropped
CONCURRENTLY on PostgreSQL: the event table is the largest (leadflow.core.migration_ops)."""

import django.db.models.deletion
from django.db import migrations, models

from leadflow.core.migration_ops import replace_indexes


class Migration(migrations.Migration):
    atomic = False  # PostgreSQL drops indexes CONCURRENTLY outside transactions

    dependencies = [
        ("leads", "0003_fewer_lead_indexes"),
        ("tracking", "0004_event_without_db_foreign_keys"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[replace_indexes("tracking", "Event", drop=[
                models.Index(fields=["lead"], name="tracking_event_lead_id_1f5e9099"),
            ])],
            state_operations=[
                migrations.AlterField(
                    model_name="event",
                    name="lead",
                    field=models.ForeignKey(
                        blank=True, db_constraint=False, db_index=False, null=True,
                        on_delete=django.db.models.deletion.CASCADE, related_name="events",
                        to="leads.lead"),
                ),
            ],
        ),
    ]
