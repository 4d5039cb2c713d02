from django.db import migrations, models


class Migration(migrations.Migration):
    """Exchange codes bound to the browser of their flow. Codes live a minute: those issued
    before this migration get a binding no cookie hashes to, and are refused."""

    dependencies = [
        ("social", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="exchangecode",
            name="binding_hash",
            field=models.CharField(default="", max_length=64),
            preserve_default=False,
        ),
    ]
