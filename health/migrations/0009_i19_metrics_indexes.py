from django.db import migrations, models


class Migration(migrations.Migration):
    """Partial indexes for the gauges /metrics computes at each scrape (health.metrics)."""

    dependencies = [("health", "0008_i15_external_ids_api_audit")]

    operations = [
        migrations.AddIndex(
            model_name="outboxemail",
            index=models.Index(
                fields=["status", "created_at"],
                condition=models.Q(status__in=["pending", "sending", "failed"]),
                name="outbox_unsent",
            ),
        ),
        migrations.AddIndex(
            model_name="callbackrequest",
            index=models.Index(
                fields=["status", "created_at"],
                condition=models.Q(status__in=["queued", "claimed"]),
                name="callback_waiting",
            ),
        ),
        migrations.AddIndex(
            model_name="ahacase",
            index=models.Index(
                fields=["deadline_at"],
                condition=models.Q(status="open"),
                name="case_waiting_deadline",
            ),
        ),
    ]
