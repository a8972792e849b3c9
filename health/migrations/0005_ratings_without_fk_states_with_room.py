import django.db.models.deletion
from django.db import migrations, models

# Every HealthState row is rewritten each night. With room for a second version of each row on
# its page, PostgreSQL updates in place ("HOT"): no new index entries, pages pruned as they go
# instead of a table that doubles every night until vacuum. Below half full, because a chunk
# rewrites every row of a page in one transaction, before any old version can be pruned.
STATE_FILLFACTOR = 45


def leave_room_in_states(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        # Applies to pages written from now on; an existing table gets it as its rows move.
        cursor.execute(f"ALTER TABLE health_healthstate SET (fillfactor = {STATE_FILLFACTOR})")


def fill_states(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("ALTER TABLE health_healthstate RESET (fillfactor)")


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_contact_is_dialable"),
        ("health", "0004_cperf_history_by_month"),
    ]

    operations = [
        migrations.AlterField(
            model_name="dailyrating",
            name="store_account",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="accounts.storeaccount",
            ),
        ),
        migrations.RunPython(leave_room_in_states, fill_states, elidable=False),
    ]
