"""The "specialists" group: what account health specialists may see and do in the admin.

They view every health record of the stores in their scope and act through the admin actions
(which need the "change" permission of the model they act on). They delete nothing and manage
no users or groups."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP = "specialists"

VIEW = [
    ("accounts", "marketplace"),
    ("accounts", "seller"),
    ("accounts", "emergencycontact"),
    ("accounts", "storeaccount"),
    ("health", "violation"),
    ("health", "enrollmentevent"),
    ("health", "daycloserun"),
    ("health", "ahacase"),
    ("health", "contactattempt"),
    ("health", "enforcement"),
    ("health", "callbackrequest"),
    ("health", "outboxemail"),
    ("health", "auditentry"),
]
# Each admin action checks the change permission of the model it acts on.
CHANGE = [
    ("accounts", "storeaccount"),
    ("health", "violation"),
    ("health", "ahacase"),
    ("health", "enforcement"),
    ("health", "callbackrequest"),
    ("health", "outboxemail"),
]


def permission_codes() -> list[tuple[str, str]]:
    return [(app, f"view_{model}") for app, model in VIEW] + [
        (app, f"change_{model}") for app, model in CHANGE
    ]


def create_group(apps, schema_editor) -> None:
    # On a fresh database the permissions are created only after all migrations; make them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=GROUP)
    permissions = [
        Permission.objects.get(content_type__app_label=app, codename=codename)
        for app, codename in permission_codes()
    ]
    group.permissions.set(permissions)


def delete_group(apps, schema_editor) -> None:
    apps.get_model("auth", "Group").objects.filter(name=GROUP).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("accounts", "0002_marketplaces"),
        ("health", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_group, delete_group)]
