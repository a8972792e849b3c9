"""After the load: every request the server accepted is in the database, exactly once, and
nothing was written that the server did not answer for."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from health.eligibility import MAX_CALLBACKS_PER_DAY, MAX_OPEN_CALLBACKS
from health.loadtest.data import SimulatedSeller
from health.loadtest.outcomes import Outcomes
from health.models import (
    OPEN_CALLBACK_STATUSES,
    AHACase,
    CallbackRequest,
    CallbackStatus,
    CaseStatus,
    EmailStatus,
    EngagementKind,
    OutboxEmail,
)


@dataclass
class Verification:
    checked: int = 0
    lost: int = 0
    problems: list[str] = field(default_factory=list)
    emails_queued: int = 0
    emails_sent: int = 0

    def problem(self, text: str, *, lost: bool = False) -> None:
        self.lost += lost
        self.problems.append(text)


def verify(sellers: list[SimulatedSeller], outcomes: Outcomes) -> Verification:
    """Compare the database with what the server answered, seller by seller."""
    result = Verification()
    callbacks: dict[int, list[CallbackRequest]] = {seller.seller_id: [] for seller in sellers}
    for callback in CallbackRequest.objects.filter(seller_id__in=callbacks):
        callbacks[callback.seller_id].append(callback)
    for seller in sellers:
        _check_callbacks(seller.seller_id, callbacks[seller.seller_id], outcomes, result)
    _check_emails(outcomes, result)
    _check_cases(sellers, outcomes, result)
    return result


def _check_callbacks(
    seller_id: int, rows: list[CallbackRequest], outcomes: Outcomes, result: Verification
) -> None:
    by_id = {row.pk: row for row in rows}
    created, cancelled = outcomes.created[seller_id], outcomes.cancelled[seller_id]
    result.checked += len(created) + len(cancelled)
    for callback_id in sorted(created - by_id.keys()):
        result.problem(f"callback {callback_id} answered as created is missing", lost=True)
    for callback_id in sorted(by_id.keys() - created):
        result.problem(f"callback {callback_id} of seller {seller_id} was never answered")
    for callback_id in sorted(cancelled & by_id.keys()):
        if by_id[callback_id].status != CallbackStatus.CANCELLED:
            result.problem(f"callback {callback_id} answered as cancelled is not", lost=True)
    if len(rows) > MAX_CALLBACKS_PER_DAY:
        result.problem(f"seller {seller_id} has {len(rows)} callbacks, over the daily limit")
    if sum(row.status in OPEN_CALLBACK_STATUSES for row in rows) > MAX_OPEN_CALLBACKS:
        result.problem(f"seller {seller_id} has more than one open callback")


def _check_emails(outcomes: Outcomes, result: Verification) -> None:
    """Each created callback has its "callback received" email in the outbox, exactly once."""
    ids = {callback_id for created in outcomes.created.values() for callback_id in created}
    keys = {f"callback_received:{callback_id}" for callback_id in ids}
    found = list(OutboxEmail.objects.filter(key__in=keys).values_list("key", flat=True))
    result.emails_queued = len(found)
    for key in sorted(keys - set(found)):
        result.problem(f"outbox email {key} is missing", lost=True)


def wait_for_emails(outcomes: Outcomes, result: Verification, *, seconds: float) -> None:
    """With a worker running: wait until it has sent every callback email (bounded)."""
    ids = [callback_id for created in outcomes.created.values() for callback_id in created]
    keys = [f"callback_received:{callback_id}" for callback_id in ids]
    emails = OutboxEmail.objects.filter(key__in=keys)
    deadline = time.monotonic() + seconds
    while emails.filter(status=EmailStatus.SENT).count() < len(keys):
        if time.monotonic() > deadline:
            break
        time.sleep(0.5)
    result.emails_sent = emails.filter(status=EmailStatus.SENT).count()
    twice = emails.filter(attempts__gt=1).count()
    if twice:
        result.problem(f"{twice} emails took more than one attempt")


def _check_cases(sellers: list[SimulatedSeller], outcomes: Outcomes, result: Verification) -> None:
    """Acknowledged cases are engaged by acknowledgement; the others are still waiting."""
    cases = AHACase.objects.filter(pk__in=[seller.case_id for seller in sellers])
    result.checked += len(outcomes.acknowledged)
    for case in cases:
        acknowledged = case.pk in outcomes.acknowledged
        engaged = (case.status, case.engagement) == (
            CaseStatus.ENGAGED,
            EngagementKind.ACKNOWLEDGED,
        )
        if acknowledged and not (engaged and case.engaged_at):
            result.problem(f"case {case.pk} answered as acknowledged is {case.status}", lost=True)
        if not acknowledged and case.status != CaseStatus.OPEN:
            result.problem(f"case {case.pk} is {case.status} though never acknowledged")
