"""The outbox: messages are queued rendered, then claimed and sent by workers
(core.workqueue); attempts, lease and due time on each message."""

from django.db import migrations, models

from leadflow.core.migration_ops import replace_indexes


class Migration(migrations.Migration):
    atomic = False  # PostgreSQL builds indexes CONCURRENTLY outside transactions

    dependencies = [
        ('campaigns', '0003_enrollment_attempts_and_email_wait'),
        ('emails', '0002_email_links'),
        ('leads', '0003_fewer_lead_indexes'),
    ]

    operations = [
        migrations.AddField(
            model_name='emailmessage',
            name='attempts',
            field=models.PositiveIntegerField(default=0, verbose_name='attempts'),
        ),
        migrations.AddField(
            model_name='emailmessage',
            name='body_html',
            field=models.TextField(blank=True),
        ),
        migrations.AddField(
            model_name='emailmessage',
            name='body_text',
            field=models.TextField(blank=True),
        ),
        migrations.AddField(
            model_name='emailmessage',
            name='claimed_by',
            field=models.CharField(blank=True, default='', max_length=64, verbose_name='claimed by'),
        ),
        migrations.AddField(
            model_name='emailmessage',
            name='due_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='emailmessage',
            name='headers',
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.AlterField(
            model_name='emailmessage',
            name='status',
            field=models.CharField(choices=[('queued', 'queued'), ('sending', 'sending'), ('sent', 'sent'), ('failed', 'failed'), ('skipped', 'skipped (opted out)')], max_length=10),
        ),
        # Built CONCURRENTLY on PostgreSQL: the table holds every email ever sent.
        migrations.SeparateDatabaseAndState(
            database_operations=[replace_indexes("emails", "EmailMessage", drop=[], add=[
                models.Index(condition=models.Q(("due_at__isnull", False)), fields=["due_at"],
                             name="email_outbox_due_idx"),
            ])],
            state_operations=[
                migrations.AddIndex(
                    model_name='emailmessage',
                    index=models.Index(condition=models.Q(('due_at__isnull', False)),
                                       fields=['due_at'], name='email_outbox_due_idx'),
                ),
            ],
        ),
    ]
