"""Visitor.claimed_lead gets a reverse name, so that merge, export and erasure, which
walk a lead's relations, find the browsers that claimed a lead (state only)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('leads', '0003_fewer_lead_indexes'),
        ('tracking', '0006_site_identity_secret_and_visitor_claim'),
    ]

    operations = [
        migrations.AlterField(
            model_name='visitor',
            name='claimed_lead',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='claimed_visitors', to='leads.lead'),
        ),
    ]
