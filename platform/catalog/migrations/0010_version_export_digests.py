from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('catalog', '0009_report_sizes'),
    ]

    operations = [
        migrations.AddField(
            model_name='datasetversion',
            name='export_digests',
            field=models.JSONField(blank=True, default=dict),
        ),
    ]
