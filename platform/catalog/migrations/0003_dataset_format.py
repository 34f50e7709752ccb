from django.db import migrations, models

# Frozen here (catalog.models.MODALITY_FORMATS may grow): what each modality's datasets held.
FORMAT_OF_MODALITY = {"image": "images/1", "scene": "scenes/1", "tabular": "table/1"}


def record_formats(apps, schema_editor):
    Dataset = apps.get_model("catalog", "Dataset")
    for modality, name in FORMAT_OF_MODALITY.items():
        Dataset.objects.filter(modality=modality, format="").update(format=name)


class Migration(migrations.Migration):

    dependencies = [
        ("catalog", "0002_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="dataset",
            name="format",
            field=models.CharField(blank=True, max_length=32),
        ),
        migrations.RunPython(record_formats, migrations.RunPython.noop),
    ]
