"""The email outbox: one row per occurrence, claimed by one sender, retried, never sent twice."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from django.core.exceptions import ValidationError
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.db import connection
from django.utils import timezone
from kombu.exceptions import OperationalError

from aha_site.celery import app as celery_app
from health.emails import render_email
from health.models import AuditEntry, EmailKind, EmailStatus, OutboxEmail
from health.services.outbox import (
    MAX_ATTEMPTS,
    SENDING_TIMEOUT,
    EmailDraft,
    queue_email,
    queue_emails,
    retry_delay,
    retry_failed_email,
    send_due_emails,
    send_email,
)
from health.tasks.emails import send_email_task
from tests.builders import make_seller, make_staff_user, make_store_account

pytestmark = pytest.mark.django_db

FAILING = {"default": {"BACKEND": "tests.health.test_outbox.RefusingBackend"}}
SLOW = {"default": {"BACKEND": "tests.health.test_outbox.SlowBackend"}}


class RefusingBackend(BaseEmailBackend):
    """An SMTP server that refuses every message."""

    def send_messages(self, email_messages: list) -> int:
        raise ConnectionRefusedError("SMTP server refused the connection")


class SlowBackend(LocmemBackend):
    """A mail server that takes a moment, so two senders overlap."""

    def send_messages(self, email_messages: list) -> int:
        time.sleep(0.3)
        return super().send_messages(email_messages)


def queue_reminder(seller=None, *, key: str = "case_reminder:1:24h", **context) -> OutboxEmail:
    store_account = make_store_account(seller=seller or make_seller())
    return queue_email(
        kind=EmailKind.CASE_REMINDER,
        key=key,
        seller=store_account.seller,
        store_account=store_account,
        context={"case_id": 1, "hours_left": 24, "deadline_at": timezone.now(), **context},
    )


@pytest.fixture
def eager_tasks():
    """Tasks run in-process here even when the suite runs against a real broker."""
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


def make_due(email: OutboxEmail) -> None:
    OutboxEmail.objects.filter(pk=email.pk).update(next_attempt_at=timezone.now())


def test_queueing_the_same_key_twice_keeps_one_row():
    first = queue_reminder()
    second = queue_email(
        kind=EmailKind.CASE_REMINDER,
        key=first.key,
        seller=first.seller,
        store_account=first.store_account,
        context={},
    )
    assert second is None
    assert OutboxEmail.objects.filter(key=first.key).count() == 1


def test_bulk_queueing_skips_keys_already_queued():
    seller = make_seller()
    queue_reminder(seller, key="k:1")
    drafts = [EmailDraft(EmailKind.ENROLLED, key, seller) for key in ("k:1", "k:2", "k:2")]
    assert queue_emails(drafts) == 1
    assert OutboxEmail.objects.filter(key__in=["k:1", "k:2"]).count() == 2


def test_address_and_language_come_from_the_seller():
    seller = make_seller(language="pl")
    email = queue_reminder(seller)
    assert (email.to, email.language, email.status) == (seller.email, "pl", EmailStatus.PENDING)


def test_emails_without_a_seller_go_to_the_operators(settings):
    settings.OPERATORS_EMAIL = ["ops@example.com", "night@example.com"]
    email = queue_email(
        kind=EmailKind.STALE_RUNS,
        key="stale_runs:PL:2026-11-25",
        seller=None,
        context={"marketplace": "PL", "last_closed_day": dt.date(2026, 11, 25)},
    )
    assert (email.to, email.language) == ("ops@example.com, night@example.com", "en")
    assert email.context["last_closed_day"] == "2026-11-25"


def test_send_email_sends_once_and_marks_it_sent(mailoutbox):
    email = queue_reminder()
    send_email(email_id=email.pk)
    send_email(email_id=email.pk)
    email.refresh_from_db()
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == [email.to]
    assert (email.status, email.attempts) == (EmailStatus.SENT, 1)
    assert email.sent_at is not None and email.subject == mailoutbox[0].subject


def test_a_row_claimed_by_another_sender_is_left_alone(mailoutbox):
    email = queue_reminder()
    OutboxEmail.objects.filter(pk=email.pk).update(
        status=EmailStatus.SENDING, next_attempt_at=timezone.now() + SENDING_TIMEOUT
    )
    send_email(email_id=email.pk)
    assert send_due_emails() == 0
    assert mailoutbox == []


def test_an_email_is_not_sent_before_its_next_attempt(mailoutbox):
    email = queue_reminder()
    OutboxEmail.objects.filter(pk=email.pk).update(
        next_attempt_at=timezone.now() + dt.timedelta(minutes=1)
    )
    send_email(email_id=email.pk)
    assert mailoutbox == []


def test_backoff_grows_five_fold():
    assert [retry_delay(n) for n in (1, 2, 3, 4)] == [
        dt.timedelta(minutes=m) for m in (1, 5, 25, 125)
    ]


def test_smtp_failure_retries_with_backoff_then_fails_after_the_last_try(settings, mailoutbox):
    settings.MAILERS = FAILING
    email = queue_reminder()
    for attempt in range(1, MAX_ATTEMPTS + 1):
        before = timezone.now()
        send_email(email_id=email.pk)
        email.refresh_from_db()
        assert email.attempts == attempt
        assert "refused" in email.last_error
        if attempt < MAX_ATTEMPTS:
            assert email.status == EmailStatus.PENDING
            assert email.next_attempt_at >= before + retry_delay(attempt)
            send_email(email_id=email.pk)  # not due yet: no try is made
            email.refresh_from_db()
            assert email.attempts == attempt
            make_due(email)
    assert email.status == EmailStatus.FAILED
    make_due(email)
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    assert send_due_emails() == 0
    assert mailoutbox == []


def test_a_specialist_retries_a_failed_email_on_the_same_row(settings, mailoutbox):
    specialist = make_staff_user()
    email = queue_reminder()
    OutboxEmail.objects.filter(pk=email.pk).update(
        status=EmailStatus.FAILED, attempts=MAX_ATTEMPTS, last_error="refused"
    )
    retry_failed_email(email_id=email.pk, by=specialist)
    email.refresh_from_db()
    assert (email.status, email.attempts) == (EmailStatus.PENDING, 0)
    assert AuditEntry.objects.filter(actor=specialist, action="retry_email").exists()
    assert send_due_emails() == 1
    assert send_due_emails() == 0
    assert len(mailoutbox) == 1
    assert OutboxEmail.objects.filter(key=email.key).count() == 1


def test_only_a_failed_email_can_be_retried():
    email = queue_reminder()
    with pytest.raises(ValidationError):
        retry_failed_email(email_id=email.pk, by=make_staff_user())


def test_a_row_stuck_in_sending_is_recovered_by_the_sweeper(mailoutbox):
    email = queue_reminder()
    # A worker claimed it and died before sending.
    OutboxEmail.objects.filter(pk=email.pk).update(
        status=EmailStatus.SENDING, attempts=1, next_attempt_at=timezone.now()
    )
    assert send_due_emails() == 1
    email.refresh_from_db()
    assert (email.status, email.attempts, len(mailoutbox)) == (EmailStatus.SENT, 2, 1)


def test_a_sent_email_is_never_sent_again(mailoutbox):
    email = queue_reminder()
    send_email(email_id=email.pk)
    OutboxEmail.objects.filter(pk=email.pk).update(next_attempt_at=timezone.now())
    send_due_emails()
    send_email(email_id=email.pk)
    assert len(mailoutbox) == 1


def test_the_sender_is_kicked_when_the_transaction_commits(
    eager_tasks, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        email = queue_reminder()
        assert mailoutbox == []
    email.refresh_from_db()
    assert email.status == EmailStatus.SENT
    assert len(mailoutbox) == 1


def test_a_broker_outage_does_not_lose_the_row(monkeypatch, django_capture_on_commit_callbacks):
    def broker_down(*args: object) -> None:
        raise OperationalError("Error 111 connecting to redis")

    monkeypatch.setattr(send_email_task, "delay", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        email = queue_reminder()
    email.refresh_from_db()
    assert email.status == EmailStatus.PENDING


def test_polish_seller_gets_polish_email_with_local_time_and_zone(mailoutbox):
    seller = make_seller(language="pl")
    email = queue_reminder(seller, deadline_at=dt.datetime(2026, 11, 26, 13, 0, tzinfo=dt.UTC))
    send_email(email_id=email.pk)
    message = mailoutbox[0]
    assert message.subject.startswith("Przypomnienie")
    assert "czwartek 26 listopada 2026, 14:00 (Europe/Warsaw)" in message.body
    assert "sprawę AHA nr" in message.body


def test_english_email_names_the_zone_of_the_marketplace():
    seller = make_seller(language="en")
    store_account = make_store_account(seller=seller, marketplace="JP")
    email = queue_email(
        kind=EmailKind.CASE_REMINDER,
        key="case_reminder:9:4h",
        seller=seller,
        store_account=store_account,
        context={"case_id": 9, "hours_left": 4, "deadline_at": "2026-11-26T13:00:00+00:00"},
    )
    _subject, body = render_email(email)
    assert "Thursday 26 November 2026, 22:00 (Asia/Tokyo)" in body


SAMPLE_CONTEXTS = {
    EmailKind.ENROLLED: {"day": "2026-11-26"},
    EmailKind.CONTACT_NEEDED: {"day": "2026-11-26"},
    EmailKind.REMOVED: {"day": "2026-11-26", "reason": "R4", "bars": False},
    EmailKind.CASE_OPENED: {
        "case_id": 3,
        "trigger": "violation",
        "category": "listing",
        "severity": "critical",
        "day": "2026-11-26",
        "deadline_at": "2026-11-29T13:00:00+00:00",
    },
    EmailKind.CASE_REMINDER: {
        "case_id": 3,
        "hours_left": 4,
        "deadline_at": "2026-11-29T13:00:00+00:00",
    },
    EmailKind.CASE_CLOSED: {"case_id": 3, "resolved": True, "closed_at": "2026-11-29T13:00Z"},
    EmailKind.DEACTIVATED: {"trigger": "violation", "category": "reviews", "deactivated_at": ""},
    EmailKind.LOW_AHR_WARNING: {"day": "2026-11-26", "deadline_at": "2026-11-29T13:00Z"},
    EmailKind.REINSTATED: {"reinstated_at": "2026-11-29T13:00:00+00:00"},
    EmailKind.CALLBACK_RECEIVED: {
        "callback_id": 5,
        "phone": "+48512345678",
        "topic": "<b>help</b>",
        "requested_at": "2026-11-29T13:00:00+00:00",
    },
    EmailKind.CALLBACK_NO_ANSWER: {
        "callback_id": 5,
        "phone": "+48512345678",
        "case_id": 3,
        "called_at": "2026-11-29T13:00:00+00:00",
    },
    EmailKind.APPEAL_RECEIVED: {"enforcement_id": 4, "submitted_at": "2026-11-29T13:00Z"},
    EmailKind.APPEAL_REJECTED: {
        "enforcement_id": 4,
        "rejected_at": "2026-11-29T13:00Z",
        "note": "<b>The plan names no root cause.</b>",
    },
    EmailKind.STALE_RUNS: {"marketplace": "PL", "stale_after_hours": 26},
    EmailKind.INVITE: {"username": "ania", "link": "https://aha.example.com/password/set/x/y/"},
    EmailKind.SET_PASSWORD: {
        "username": "ania",
        "link": "https://aha.example.com/password/set/x/y/",
    },
}


@pytest.mark.parametrize("language", ["en", "pl"])
@pytest.mark.parametrize("kind", EmailKind.values)
def test_every_kind_renders_in_both_languages(kind: str, language: str):
    seller = make_seller(language=language)
    store_account = make_store_account(seller=seller)
    email = OutboxEmail(
        key=f"{kind}:x",
        kind=kind,
        seller=seller,
        store_account=store_account,
        language=language,
        context=SAMPLE_CONTEXTS[kind],
    )
    subject, body = render_email(email)
    assert subject and "{" not in subject and "\n" not in subject
    assert seller.name in body or kind == EmailKind.STALE_RUNS
    assert "{{" not in body and "{%" not in body
    # Seller-typed text stays text: a plain-text email does not escape it into entities.
    assert "&lt;" not in body


def test_the_removed_email_says_the_store_account_was_deactivated_for_r4():
    seller = make_seller(language="pl")
    email = OutboxEmail(
        key="removed:x",
        kind=EmailKind.REMOVED,
        seller=seller,
        store_account=make_store_account(seller=seller),
        language="pl",
        context={"day": "2026-11-26", "reason": "R4", "bars": False},
    )
    _subject, body = render_email(email)
    assert "26 listopada 2026" in body
    assert "72 godzin" in body and "dezaktywowane" in body


# Serialized rollback: the marketplaces come from a data migration and must survive the flush.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_concurrent_senders_send_an_email_once(postgres, settings, mailoutbox):
    settings.MAILERS = SLOW
    email = queue_reminder()
    errors: list[BaseException] = []

    def sender() -> None:
        try:
            send_email(email_id=email.pk)
        except BaseException as error:  # surfaced by the assertion below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=sender) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(mailoutbox) == 1
    email.refresh_from_db()
    assert (email.status, email.attempts) == (EmailStatus.SENT, 1)
