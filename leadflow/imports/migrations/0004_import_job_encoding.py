from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('imports', '0003_import_job_due_backfill'),
    ]

    operations = [
        migrations.AddField(
            model_name='importjob',
            name='encoding',
            field=models.CharField(blank=True, max_length=20, verbose_name='encoding'),
        ),
    ]
