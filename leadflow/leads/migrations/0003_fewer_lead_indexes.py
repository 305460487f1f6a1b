"""Fewer lead indexes: the owner's repeated the leading column of lead_owner_score_idx,
the email domain's LIKE index served no query, and the contact-problem index covered every
row where only the flagged minority is ever looked up. Done without locking the table
(leadflow.core.migration_ops says why Django's generated operations would)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from leadflow.core.migration_ops import replace_indexes

NEW = [
    models.Index(fields=["email_domain"], name="lead_email_domain_idx"),
    models.Index(condition=models.Q(("contact_data_incorrect", True)),
                 fields=["contact_data_incorrect"], name="lead_contact_incorrect_idx"),
]
OLD = [
    models.Index(fields=["owner"], name="leads_lead_owner_id_1f4568d0"),
    models.Index(fields=["contact_data_incorrect"],
                 name="leads_lead_contact_data_incorrect_cce847eb"),
    models.Index(fields=["email_domain"], name="leads_lead_email_domain_fb63d393"),
    models.Index(fields=["email_domain"], name="leads_lead_email_domain_fb63d393_like",
                 opclasses=["varchar_pattern_ops"]),
]


class Migration(migrations.Migration):
    atomic = False  # PostgreSQL builds and drops indexes CONCURRENTLY outside transactions

    dependencies = [
        ("accounts", "0001_initial"),
        ("leads", "0002_quality_dedupe_privacy"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[replace_indexes(
                "leads", "Lead", add=NEW, drop=OLD,
                postgresql_only=("leads_lead_email_domain_fb63d393_like",))],
            state_operations=[
                migrations.AlterField(
                    model_name="lead",
                    name="contact_data_incorrect",
                    field=models.BooleanField(default=False,
                                              verbose_name="contact data incorrect"),
                ),
                migrations.AlterField(
                    model_name="lead",
                    name="email_domain",
                    field=models.CharField(
                        blank=True, max_length=200,
                        help_text="Company domain of the email; empty for free mail"),
                ),
                migrations.AlterField(
                    model_name="lead",
                    name="owner",
                    field=models.ForeignKey(
                        blank=True, db_index=False, null=True,
                        on_delete=django.db.models.deletion.SET_NULL, related_name="leads",
                        to=settings.AUTH_USER_MODEL, verbose_name="owner"),
                ),
                *(migrations.AddIndex(model_name="lead", index=index) for index in NEW),
            ],
        ),
    ]
