from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('catalog', '0003_dataset_format'),
    ]

    operations = [
        migrations.AlterField(
            model_name='dataset',
            name='kind',
            field=models.CharField(choices=[('reference', 'reference (real)'), ('synthetic', 'synthetic'), ('model', 'model')], max_length=16),
        ),
    ]
