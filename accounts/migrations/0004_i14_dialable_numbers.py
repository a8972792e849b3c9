import phonenumber_field.modelfields
from django.db import migrations

import accounts.phones

# Rows judged per batch: keeps memory flat on a big table.
BATCH = 2000


def judge_numbers_again(apps, schema_editor) -> None:
    """Premium-rate, shared-cost and satellite numbers saved before are no longer dialable (E2)."""
    contact_model = apps.get_model("accounts", "EmergencyContact")
    pending = contact_model.objects.filter(is_dialable=True).order_by("pk")
    last = 0
    while batch := list(pending.filter(pk__gt=last).values_list("pk", "phone")[:BATCH]):
        refused = [pk for pk, phone in batch if not accounts.phones.is_dialable_text(str(phone))]
        contact_model.objects.filter(pk__in=refused).update(is_dialable=False)
        last = batch[-1][0]


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_contact_is_dialable"),
    ]

    operations = [
        migrations.AlterField(
            model_name="emergencycontact",
            name="phone",
            field=phonenumber_field.modelfields.PhoneNumberField(
                max_length=128,
                region=None,
                validators=[accounts.phones.validate_dialable],
                verbose_name="emergency contact phone number",
            ),
        ),
        migrations.RunPython(judge_numbers_again, migrations.RunPython.noop, elidable=True),
    ]
