"""Second half of 0005, in its own transaction: PostgreSQL refuses to alter a table that
the same transaction updated while its foreign keys' checks are pending."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("scoring", "0005_rules_groups_entries_in_event_time"),
    ]

    operations = [
        migrations.RemoveField(
            model_name='scorerule',
            name='once_per_lead',
        ),
        migrations.AlterField(
            model_name='scoreentry',
            name='group',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='scoring.scoregroup'),
        ),
        migrations.AlterField(
            model_name='scoreentry',
            name='occurred_at',
            field=models.DateTimeField(),
        ),
        migrations.AlterField(
            model_name='scorerule',
            name='group',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='rules', to='scoring.scoregroup', verbose_name='score group'),
        ),
    ]
