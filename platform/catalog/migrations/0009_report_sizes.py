"""Record the bytes of stored reports (a job's beside its version, an evaluation's), so the storage
quota counts them; existing rows read them from the report's stored manifest."""

import json

from django.db import migrations, models


def _stored_size(path: str) -> int:
    """The total_size in the manifest beside the report file at ``path`` (0 if there is none)."""
    from catalog.storage import MANIFEST_NAME, dataset_storage

    prefix, _, _ = path.rpartition("/")
    try:
        with dataset_storage().open(f"{prefix}/{MANIFEST_NAME}", "rb") as fh:
            return int(json.loads(fh.read())["total_size"])
    except (OSError, ValueError, KeyError):
        return 0


def backfill(apps, schema_editor):
    DatasetVersion, Evaluation = apps.get_model("catalog", "DatasetVersion"), apps.get_model("catalog", "Evaluation")
    for version in DatasetVersion.objects.filter(summary__has_key="report").only("summary"):
        if files := version.summary["report"]:
            DatasetVersion.objects.filter(pk=version.pk).update(report_size=_stored_size(next(iter(files.values()))))
    for evaluation in Evaluation.objects.exclude(report_files={}).only("report_files"):
        size = _stored_size(next(iter(evaluation.report_files.values())))
        Evaluation.objects.filter(pk=evaluation.pk).update(report_size=size)


class Migration(migrations.Migration):

    dependencies = [
        ('catalog', '0008_version_archive_index'),
    ]

    operations = [
        migrations.AddField(
            model_name='datasetversion',
            name='report_size',
            field=models.BigIntegerField(default=0),
        ),
        migrations.AddField(
            model_name='evaluation',
            name='report_size',
            field=models.BigIntegerField(default=0),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
