"""Celery tasks (emails): deliver outbox rows. Both are safe to run twice: a row is claimed by one
conditional UPDATE, and a row marked sent is never sent again."""

from celery import shared_task

from health.services import outbox

__all__ = ["send_due_emails", "send_email_task"]


@shared_task(name="health.tasks.emails.send_email_task")
def send_email_task(email_id: int) -> None:
    """Send one outbox email now (kicked when the transaction that queued it commits)."""
    outbox.send_email(email_id=email_id)


@shared_task(name="health.tasks.emails.send_due_emails")
def send_due_emails() -> int:
    """Send every due outbox email: retries, and emails whose kick was lost."""
    return outbox.send_due_emails()
