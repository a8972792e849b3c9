"""The email outbox (rules §7): every email is a row written in the transaction of its cause, and a
worker sends it. The unique `key` (kind:object:occurrence) is what makes an occurrence emailed at
most once, however often the code that causes it runs.

Delivery decisions:
- A row is claimed with one conditional UPDATE (pending and due -> sending); only the process whose
  UPDATE matched sends it, so two workers (or the sweeper and a kick) never both send a row.
- A row marked sent is never sent again. The only window for a duplicate is a worker that dies
  after the SMTP server accepted the message and before the row is marked sent (milliseconds);
  such a row is stuck in "sending" and the sweeper sends it again after SENDING_TIMEOUT.
  At-least-once is unavoidable at the SMTP boundary; this keeps the window as small as it can be.
- Without Redis (development, no REDIS_URL) tasks run in-process, so the kick at commit sends at
  once in the same process; that is acceptable for a demo. With Redis a request never waits on SMTP.
- If the broker is down when a row is queued, the change and its row are still committed: the kick
  is logged and dropped, and the periodic sweeper (send_due_emails) sends the row later.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts.models import Seller, StoreAccount, User
from aha_site.observability.metrics import count_email_sent
from health.emails import render_email
from health.models import EmailKind, EmailStatus, OutboxEmail
from health.services.audit import record_action

logger = logging.getLogger(__name__)

# Operational settings of delivery (not domain rules): tries, the backoff between them, and how
# long a row may stay "sending" before the sweeper assumes its worker died.
MAX_ATTEMPTS = 5
FIRST_RETRY_DELAY = dt.timedelta(minutes=1)
RETRY_BACKOFF_FACTOR = 5  # 1, 5, 25, 125 minutes
SENDING_TIMEOUT = dt.timedelta(minutes=5)
SWEEP_BATCH_SIZE = 500


@dataclass(frozen=True, slots=True)
class EmailDraft:
    """One email to queue with queue_emails (the bulk form of queue_email)."""

    kind: str
    key: str
    seller: Seller | None
    store_account: StoreAccount | None = None
    context: dict[str, Any] = field(default_factory=dict)
    # A user's own address and language instead of the seller's (a set-password link).
    user: User | None = None


def queue_email(
    *,
    kind: str,
    key: str,
    seller: Seller | None,
    store_account: StoreAccount | None = None,
    context: dict[str, Any],
    user: User | None = None,
) -> OutboxEmail | None:
    """Write an email to the outbox in the caller's transaction; None if its key was queued."""
    draft = EmailDraft(kind, key, seller, store_account, context, user)
    with transaction.atomic():
        email, created = OutboxEmail.objects.get_or_create(key=key, defaults=_row_values(draft))
    if not created:
        return None
    transaction.on_commit(lambda: _kick_sender(email.pk))
    return email


def queue_emails(drafts: Iterable[EmailDraft]) -> int:
    """Write many emails in one INSERT (keys already queued are skipped); returns how many."""
    rows = [OutboxEmail(key=draft.key, **_row_values(draft)) for draft in drafts]
    if not rows:
        return 0
    keys = [row.key for row in rows]
    before = OutboxEmail.objects.filter(key__in=keys).count()
    OutboxEmail.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
    added = OutboxEmail.objects.filter(key__in=keys).count() - before
    # One sweep sends the whole batch; a task per email would flood the broker on a big night.
    transaction.on_commit(_kick_sweeper)
    return added


def _row_values(draft: EmailDraft) -> dict[str, Any]:
    if draft.kind not in EmailKind.values:
        raise ValueError(f"unknown email kind {draft.kind!r}")
    if draft.user is not None:
        to, language = draft.user.email, draft.user.language
    elif draft.seller is None:
        # Emails with no seller are for the operators (e.g. a stalled day close).
        to, language = ", ".join(settings.OPERATORS_EMAIL), "en"
    else:
        to, language = draft.seller.email, draft.seller.language
    return {
        "kind": draft.kind,
        "seller": draft.seller,
        "store_account": draft.store_account,
        "to": to,
        "language": language,
        "context": _json_ready(draft.context),
    }


def _json_ready(context: dict[str, Any]) -> dict[str, Any]:
    """Instants and dates as ISO 8601 strings, so the row stores exactly what the email shows."""
    return {
        name: value.isoformat() if isinstance(value, dt.date | dt.datetime) else value
        for name, value in context.items()
    }


def _kick_sender(email_id: int) -> None:
    from health.tasks.emails import send_email_task  # the tasks module imports this one

    _enqueue(send_email_task, email_id)


def _kick_sweeper() -> None:
    from health.tasks.emails import send_due_emails as send_due_emails_task

    _enqueue(send_due_emails_task)


def _enqueue(task: Any, *args: Any) -> None:
    try:
        task.delay(*args)
    except Exception:
        # The row is committed; the periodic sweeper sends it when the broker is back.
        logger.exception("Could not enqueue %s%r; the outbox sweeper will send it", task.name, args)


def send_email(*, email_id: int) -> None:
    """Claim one due email, send it through Django's mail API, and record the outcome."""
    # Deliberately not one transaction: the claim commits before the SMTP call so no lock or
    # transaction is held while talking to the mail server.
    now = timezone.now()
    claimed = OutboxEmail.objects.filter(
        pk=email_id, status=EmailStatus.PENDING, next_attempt_at__lte=now
    ).update(
        status=EmailStatus.SENDING,
        attempts=F("attempts") + 1,
        # While sending, next_attempt_at is when the claim expires (see SENDING_TIMEOUT).
        next_attempt_at=now + SENDING_TIMEOUT,
    )
    if not claimed:
        return
    email = OutboxEmail.objects.select_related("store_account__marketplace").get(pk=email_id)
    try:
        subject, body = render_email(email)
        EmailMessage(subject=subject, body=body, to=_recipients(email.to)).send()
    except Exception as error:
        _record_failure(email, error)
        return
    OutboxEmail.objects.filter(pk=email_id, status=EmailStatus.SENDING).update(
        status=EmailStatus.SENT, sent_at=timezone.now(), subject=subject[:300], last_error=""
    )
    count_email_sent(email.kind)


def _recipients(to: str) -> list[str]:
    return [address.strip() for address in to.split(",") if address.strip()]


def retry_delay(attempts: int) -> dt.timedelta:
    """The wait after the `attempts`-th failed try: 1, 5, 25, 125 minutes..."""
    return FIRST_RETRY_DELAY * RETRY_BACKOFF_FACTOR ** max(attempts - 1, 0)


def _record_failure(email: OutboxEmail, error: Exception) -> None:
    logger.warning("Sending email %s (try %d) failed: %s", email.key, email.attempts, error)
    last_try = email.attempts >= MAX_ATTEMPTS
    OutboxEmail.objects.filter(pk=email.pk, status=EmailStatus.SENDING).update(
        status=EmailStatus.FAILED if last_try else EmailStatus.PENDING,
        next_attempt_at=timezone.now() + retry_delay(email.attempts),
        last_error=f"{type(error).__name__}: {error}"[:2000],
    )


def send_due_emails() -> int:
    """Send every due pending email, in batches; recovers rows whose worker died mid-send."""
    _recover_stuck_rows()
    sent = 0
    while True:
        due = list(
            OutboxEmail.objects.filter(
                status=EmailStatus.PENDING, next_attempt_at__lte=timezone.now()
            )
            .order_by("next_attempt_at")
            .values_list("pk", flat=True)[:SWEEP_BATCH_SIZE]
        )
        for email_id in due:
            send_email(email_id=email_id)
        sent += OutboxEmail.objects.filter(pk__in=due, status=EmailStatus.SENT).count()
        if len(due) < SWEEP_BATCH_SIZE:
            return sent


def _recover_stuck_rows() -> None:
    stuck = Q(status=EmailStatus.SENDING, next_attempt_at__lte=timezone.now())
    OutboxEmail.objects.filter(stuck, attempts__gte=MAX_ATTEMPTS).update(
        status=EmailStatus.FAILED, last_error="The worker sending it stopped; no more tries left."
    )
    recovered = OutboxEmail.objects.filter(stuck).update(status=EmailStatus.PENDING)
    if recovered:
        logger.warning("Recovered %d outbox emails stuck in sending", recovered)


@transaction.atomic
def retry_failed_email(*, email_id: int, by: User) -> None:
    """A specialist sends a failed email again: the same row, so never a second copy."""
    email = OutboxEmail.objects.select_for_update().filter(pk=email_id).first()
    if email is None or email.status != EmailStatus.FAILED:
        raise ValidationError("Only an email that failed after its last try can be retried.")
    email.status = EmailStatus.PENDING
    email.attempts = 0
    email.next_attempt_at = timezone.now()
    email.save(update_fields=["status", "attempts", "next_attempt_at"])
    record_action(
        actor=by,
        action="retry_email",
        store_account=email.store_account,
        target=f"email:{email.pk}",
        details={"key": email.key, "last_error": email.last_error},
    )
    transaction.on_commit(lambda: _kick_sender(email.pk))
