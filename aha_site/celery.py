"""The Celery app and the whole periodic schedule."""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aha_site.settings")

app = Celery("aha_site")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Task metrics, the worker's metrics port and the request id carried into tasks.
import aha_site.observability.celery  # noqa: E402, F401

app.conf.beat_schedule = {
    # Finds every marketplace whose local day has ended and fans its day close out in chunks.
    "dispatch-day-closes": {
        "task": "health.tasks.day_close.dispatch_day_closes",
        "schedule": crontab(minute="*/5"),
    },
    # Warns specialists and operators when a marketplace has not closed a day for too long.
    "check-stale-runs": {
        "task": "health.tasks.day_close.check_stale_runs",
        "schedule": crontab(minute="*/30"),
    },
    # 72-hour engagement deadlines, their reminders, and the 3-day standard-enforcement deadlines.
    "watch-deadlines": {
        "task": "health.tasks.cases.watch_deadlines",
        "schedule": crontab(minute="*"),
    },
    # Sends due outbox emails, including retries; new emails are also kicked at commit.
    "send-due-emails": {
        "task": "health.tasks.emails.send_due_emails",
        "schedule": crontab(minute="*"),
    },
}
