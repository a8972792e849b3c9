"""The deadline watcher: case reminders, missed 72-hour deadlines, expired low-AHR warnings."""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from health.eligibility import (
    ENGAGEMENT_REMINDERS,
    RemovalReason,
)
from health.models import (
    AHACase,
    CaseStatus,
    EmailKind,
    Enforcement,
    EnforcementKind,
    EnforcementStatus,
    OutboxEmail,
)
from health.services.outbox import EmailDraft, queue_emails
from health.services.protection.cases import close_as, lose_aha
from health.services.protection.enforcement import decide_warning


def watch_deadlines(*, now: dt.datetime) -> dict[str, int]:
    """Send due case reminders, miss cases past their deadline, decide expired AHR warnings."""
    # Not one transaction: each case and warning is decided in its own, so a lock held on one
    # row never stalls the rest, and two watchers at once skip each other's rows.
    missed = sum(_miss_case(pk, now=now) for pk in _overdue_case_ids(now))
    deactivated = cleared = 0
    for pk in _expired_warning_ids(now):
        outcome = decide_warning(pk, now=now)
        deactivated += outcome == EnforcementStatus.DEACTIVATED
        cleared += outcome == EnforcementStatus.CLEARED
    return {
        "reminders": _send_reminders(now),
        "missed": missed,
        "warnings_deactivated": deactivated,
        "warnings_cleared": cleared,
    }


def _overdue_case_ids(now: dt.datetime) -> list[int]:
    overdue = AHACase.objects.filter(status=CaseStatus.OPEN, deadline_at__lte=now)
    return list(overdue.values_list("pk", flat=True))


@transaction.atomic
def _miss_case(case_id: int, *, now: dt.datetime) -> bool:
    case = (
        AHACase.objects.select_for_update(of=("self",), skip_locked=True)
        .select_related("store_account__seller", "store_account__marketplace", "violation")
        .filter(pk=case_id, status=CaseStatus.OPEN, deadline_at__lte=now)
        .first()
    )
    if case is None:
        return False
    close_as(case, CaseStatus.MISSED, by=None, note="No engagement by the deadline.")
    lose_aha(case, RemovalReason.R4, by=None, note=f"AHA case {case.pk} missed its deadline.")
    return True


def _expired_warning_ids(now: dt.datetime) -> list[int]:
    expired = Enforcement.objects.filter(
        kind=EnforcementKind.LOW_AHR_WARNING,
        status=EnforcementStatus.WARNING,
        deadline_at__lte=now,
    )
    return list(expired.values_list("pk", flat=True))


def _send_reminders(now: dt.datetime) -> int:
    """Queue the most urgent due reminder of each open, unengaged case, once per key."""
    latest_window = max(ENGAGEMENT_REMINDERS)
    cases = AHACase.objects.filter(
        status=CaseStatus.OPEN, deadline_at__gt=now, deadline_at__lte=now + latest_window
    ).select_related("store_account__seller", "store_account__marketplace")
    drafts = []
    for case in cases:
        left = case.deadline_at - now
        # When the watcher was down through the 24-hour mark, only the 4-hour one goes.
        due = min(before for before in ENGAGEMENT_REMINDERS if left <= before)
        drafts.append(_reminder_email(case, due))
    known = set(
        OutboxEmail.objects.filter(key__in=[d.key for d in drafts]).values_list("key", flat=True)
    )
    with transaction.atomic():
        return queue_emails(draft for draft in drafts if draft.key not in known)


def _reminder_email(case: AHACase, before: dt.timedelta) -> EmailDraft:
    hours = before // dt.timedelta(hours=1)
    return EmailDraft(
        kind=EmailKind.CASE_REMINDER,
        key=f"case_reminder:{case.pk}:{hours}h",
        seller=case.store_account.seller,
        store_account=case.store_account,
        context={"case_id": case.pk, "hours_left": hours, "deadline_at": case.deadline_at},
    )
