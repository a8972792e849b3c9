"""The outbox with a real Redis broker and real Celery worker processes: sent once, a broker
outage loses nothing, and a failing SMTP server leads to retries and a visible failure."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import time
from collections.abc import Callable, Iterator

import pytest
from django.db import transaction
from django.utils import timezone

from accounts.models import StoreStatus
from aha_site.celery import app as celery_app
from health.models import EmailKind, EmailStatus, OutboxEmail
from health.services.outbox import MAX_ATTEMPTS, queue_email, retry_failed_email
from health.tasks.emails import send_due_emails, send_email_task
from tests.builders import make_seller, make_staff_user, make_store_account
from tests.health.protection_helpers import violation

# Serialized rollback: the marketplaces come from a data migration and must survive each flush.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

CONSOLE = {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(condition: Callable[[], bool], *, what: str, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.1)


def row(email_id: int) -> OutboxEmail:
    return OutboxEmail.objects.get(pk=email_id)


def times_in_log(worker, text: str) -> int:
    return sum(text in line for line in worker.log)


def queue_case_reminder(key: str) -> int:
    store_account = make_store_account(seller=make_seller())
    with transaction.atomic():
        email = queue_email(
            kind=EmailKind.CASE_REMINDER,
            key=key,
            seller=store_account.seller,
            store_account=store_account,
            context={"case_id": 7, "hours_left": 4, "deadline_at": timezone.now()},
        )
    return email.pk


@contextlib.contextmanager
def broker_unreachable() -> Iterator[None]:
    """This (web) process publishes to a closed port, as if Redis were down."""
    conf = celery_app.conf
    saved = conf.broker_url, conf.task_publish_retry_policy

    def reset_connections() -> None:
        # Drop the cached pools so the next publish connects to the current broker_url.
        celery_app._pool = None
        celery_app.amqp._producer_pool = None

    reset_connections()
    conf.broker_url = f"redis://127.0.0.1:{closed_port()}/0"
    conf.task_publish_retry_policy = {"max_retries": 1, "interval_start": 0, "interval_step": 0.1}
    try:
        yield
    finally:
        reset_connections()
        conf.broker_url, conf.task_publish_retry_policy = saved


def test_an_email_queued_in_a_transaction_is_sent_by_the_worker_once(start_worker):
    worker = start_worker(extra_env=CONSOLE)
    email_id = queue_case_reminder("case_reminder:7:4h")
    wait_for(lambda: row(email_id).status == EmailStatus.SENT, what="the worker to send it")
    # A duplicated kick and a sweep change nothing.
    send_email_task.delay(email_id)
    send_due_emails.delay()
    time.sleep(1.5)
    email = row(email_id)
    assert (email.status, email.attempts) == (EmailStatus.SENT, 1)
    assert times_in_log(worker, f"Subject: {email.subject}") == 1


def test_with_redis_down_the_change_and_its_email_are_saved_and_sent_later(start_worker):
    store_account = make_store_account()
    with broker_unreachable():
        # An unprotected deactivation-level violation: deactivation plus its email.
        found = violation(store_account)
    store_account.refresh_from_db()
    assert store_account.status == StoreStatus.DEACTIVATED
    email = OutboxEmail.objects.get(kind=EmailKind.DEACTIVATED, store_account=store_account)
    assert email.status == EmailStatus.PENDING and found.pk
    worker = start_worker(extra_env=CONSOLE)
    send_due_emails.delay()
    wait_for(lambda: row(email.pk).status == EmailStatus.SENT, what="the sweeper to send it")
    send_due_emails.delay()
    time.sleep(1.5)
    assert row(email.pk).attempts == 1
    assert times_in_log(worker, f"Subject: {row(email.pk).subject}") == 1


def test_failing_smtp_retries_then_fails_visibly_and_a_retry_sends_once(start_worker):
    smtp_down = {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(closed_port()),
    }
    failing_worker = start_worker(extra_env=smtp_down)
    email_id = queue_case_reminder("case_reminder:8:4h")
    for attempt in range(1, MAX_ATTEMPTS + 1):
        wait_for(lambda n=attempt: row(email_id).attempts == n, what=f"try {attempt}")
        wait_for(lambda: row(email_id).status != EmailStatus.SENDING, what="the try to end")
        email = row(email_id)
        assert "Connection refused" in email.last_error or "Errno" in email.last_error
        if attempt < MAX_ATTEMPTS:
            assert email.status == EmailStatus.PENDING
            assert email.next_attempt_at > timezone.now()
            # Skip the backoff wait and let the sweeper make the next try.
            OutboxEmail.objects.filter(pk=email_id).update(next_attempt_at=timezone.now())
            send_due_emails.delay()
    assert row(email_id).status == EmailStatus.FAILED
    os.killpg(failing_worker.pid, signal.SIGKILL)
    failing_worker.wait(timeout=10)

    # The SMTP server is back; a specialist retries the same row.
    worker = start_worker(extra_env=CONSOLE)
    with transaction.atomic():
        retry_failed_email(email_id=email_id, by=make_staff_user())
    wait_for(lambda: row(email_id).status == EmailStatus.SENT, what="the retried email")
    send_due_emails.delay()
    time.sleep(1.5)
    assert OutboxEmail.objects.filter(key="case_reminder:8:4h").count() == 1
    assert times_in_log(worker, f"Subject: {row(email_id).subject}") == 1
