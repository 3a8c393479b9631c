from django.db import migrations


def create_local(apps, schema_editor):
    Environment = apps.get_model("containers", "Environment")
    if not Environment.objects.filter(is_default=True).exists():
        Environment.objects.get_or_create(name="local", defaults={"is_default": True})


class Migration(migrations.Migration):
    dependencies = [("containers", "0001_initial")]

    operations = [migrations.RunPython(create_local, migrations.RunPython.noop)]
