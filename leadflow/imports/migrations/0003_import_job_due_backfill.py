"""Jobs queued or running when 0002 was applied got no due time, and claim() only takes
due rows: make them due now, so that a worker runs them (a running one had lost its
worker with the upgrade anyway)."""

from django.db import migrations
from django.utils import timezone


def make_due(apps, schema_editor):
    ImportJob = apps.get_model("imports", "ImportJob")
    ImportJob.objects.filter(status__in=("queued", "running"), due_at__isnull=True).update(
        due_at=timezone.now())


class Migration(migrations.Migration):

    dependencies = [
        ('imports', '0002_import_job_lease'),
    ]

    operations = [
        migrations.RunPython(make_due, migrations.RunPython.noop),
    ]
