"""Celery tasks (cases): the deadline watcher of AHA cases and standard enforcement."""

from celery import shared_task
from django.utils import timezone

from health.services import protection

__all__ = ["watch_deadlines"]


@shared_task(name="health.tasks.cases.watch_deadlines")
def watch_deadlines() -> dict[str, int]:
    """Reminders, missed 72-hour deadlines and expired AHR warnings; safe to run twice."""
    return protection.watch_deadlines(now=timezone.now())
