"""A real Celery worker process, against Redis, runs a task that writes to the database."""

import time

import pytest

from health.models import EmailKind, EmailStatus, OutboxEmail
from health.tasks.emails import send_due_emails
from tests.builders import make_seller


@pytest.mark.django_db(transaction=True)
def test_worker_process_runs_a_task_that_writes_to_the_database(start_worker):
    seller = make_seller()
    email = OutboxEmail.objects.create(
        key=f"callback_received:round-trip:{seller.pk}",
        kind=EmailKind.CALLBACK_RECEIVED,
        seller=seller,
        to=seller.email,
        context={},
    )
    worker = start_worker(
        extra_env={"EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend"}
    )

    send_due_emails.delay()

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        email.refresh_from_db()
        # "sending" is the worker between its claim and the SMTP answer: wait for the outcome.
        if email.status not in (EmailStatus.PENDING, EmailStatus.SENDING):
            break
        time.sleep(0.1)
    assert email.status == EmailStatus.SENT, email.last_error + "".join(worker.log)
    assert email.sent_at is not None
