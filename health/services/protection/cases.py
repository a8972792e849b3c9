"""The AHA case (rules §5): outreach and the 72-hour clock, engagement, closing, and resolving
the violation behind it."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import StoreAccount, StoreStatus, User
from health.eligibility import (
    ENGAGEMENT_WINDOW,
    RemovalReason,
)
from health.models import (
    OPEN_CASE_STATUSES,
    AHACase,
    CaseStatus,
    CaseTrigger,
    ContactAttempt,
    ContactChannel,
    ContactOutcome,
    EmailKind,
    EngagementKind,
    Violation,
    ViolationScope,
)
from health.services.audit import record_action
from health.services.enrollment import remove_from_aha
from health.services.outbox import EmailDraft, queue_email, queue_emails
from health.services.protection.common import (
    NOTE_MAX_LENGTH,
    PLAN_FIELDS,
    affected_accounts,
    audit,
    check_choice,
    clean_text,
    enrolled_ids,
    queue_draft,
    set_plan,
)
from health.services.protection.enforcement import deactivate_for_violation, deactivate_on_removal


def start_outreach(case: AHACase, *, now: dt.datetime) -> None:
    # The clock starts now unless a specialist already reached the seller by phone.
    if case.first_contacted_at is None or case.first_contacted_at > now:
        case.first_contacted_at, case.deadline_at = now, now + ENGAGEMENT_WINDOW
        case.save(update_fields=["first_contacted_at", "deadline_at"])
    _outreach_attempt(case, now).save()
    queue_draft(_case_opened_email(case))


def _outreach_attempt(case: AHACase, now: dt.datetime) -> ContactAttempt:
    return ContactAttempt(
        case=case,
        channel=ContactChannel.EMAIL,
        outcome=ContactOutcome.SENT,
        note="Outreach email",
        at=now,
    )


def _case_opened_email(case: AHACase) -> EmailDraft:
    account = case.store_account
    violation = case.violation
    return EmailDraft(
        kind=EmailKind.CASE_OPENED,
        key=f"case_opened:{case.pk}",
        seller=account.seller,
        store_account=account,
        context={
            "case_id": case.pk,
            "trigger": case.trigger,
            "category": violation.category if violation else "",
            "severity": violation.severity if violation else "",
            "account_wide": bool(violation and violation.scope == ViolationScope.ACCOUNT_WIDE),
            "day": case.trigger_day,
            "deadline_at": case.deadline_at,
            "engagement_hours": ENGAGEMENT_WINDOW // dt.timedelta(hours=1),
        },
    )


def open_low_ahr_cases(accounts: list[StoreAccount], *, day: dt.date, now: dt.datetime) -> int:
    running = set(
        AHACase.objects.open()
        .filter(trigger=CaseTrigger.LOW_AHR, store_account__in=accounts)
        .values_list("store_account_id", flat=True)
    )
    AHACase.objects.bulk_create(
        [
            AHACase(store_account=account, trigger=CaseTrigger.LOW_AHR, trigger_day=day)
            for account in accounts
            if account.pk not in running
        ],
        ignore_conflicts=True,  # the day closed before: its cases exist already
    )
    new_cases = AHACase.objects.filter(
        trigger=CaseTrigger.LOW_AHR,
        trigger_day=day,
        store_account__in=accounts,
        first_contacted_at__isnull=True,
    ).select_related("store_account__seller", "store_account__marketplace")
    new_cases = list(new_cases)
    for case in new_cases:
        case.first_contacted_at, case.deadline_at = now, now + ENGAGEMENT_WINDOW
    AHACase.objects.bulk_update(new_cases, ["first_contacted_at", "deadline_at"])
    ContactAttempt.objects.bulk_create([_outreach_attempt(case, now) for case in new_cases])
    queue_emails(_case_opened_email(case) for case in new_cases)
    return len(new_cases)


@transaction.atomic
def acknowledge_case(*, case: AHACase, by: User) -> AHACase:
    """The seller acknowledges the case on the dashboard: that is engagement."""
    case = _locked_case(case)
    _require_open(case)
    _engage(case, EngagementKind.ACKNOWLEDGED)
    return case


@transaction.atomic
def submit_plan_of_action(
    *, case: AHACase, root_cause: str, actions_taken: str, prevention: str, by: User
) -> AHACase:
    """The seller submits a plan of action (root cause, actions taken, prevention)."""
    case = _locked_case(case)
    _require_open(case)
    set_plan(case, root_cause, actions_taken, prevention)
    case.save(update_fields=[*PLAN_FIELDS, "plan_submitted_at"])
    _engage(case, EngagementKind.PLAN)
    return case


@transaction.atomic
def mark_engaged(*, case: AHACase, by: User, how: str, note: str = "") -> AHACase:
    """A specialist records that the seller engaged (talked to them, or a completed callback)."""
    check_choice(how, EngagementKind.values, "engagement")
    note = clean_text(note, "note", NOTE_MAX_LENGTH, required=False)
    case = _locked_case(case)
    _require_open(case)
    if case.engaged_at is None:
        _engage(case, how)
        record_action(
            actor=by,
            action="mark_engaged",
            store_account=case.store_account,
            target=f"case:{case.pk}",
            reason=note,
            details={"how": how},
        )
    return case


@transaction.atomic
def record_contact_attempt(
    *,
    case: AHACase,
    channel: str,
    outcome: str,
    note: str,
    by: User,
    at: dt.datetime | None = None,
) -> ContactAttempt:
    """A specialist records a call or email to the seller; a phone contact can start the clock."""
    check_choice(channel, ContactChannel.values, "channel")
    check_choice(outcome, ContactOutcome.values, "outcome")
    case = _locked_case(case)
    if not case.is_open:
        raise ValidationError("This AHA case is closed.", code="closed")
    now = timezone.now()
    at = at or now
    earliest = case.violation.detected_at if case.violation else case.opened_at
    if at > now or at < earliest:
        raise ValidationError(
            "The time of the contact must be between the event and now.", code="bad_time"
        )
    attempt = ContactAttempt.objects.create(
        case=case,
        channel=channel,
        outcome=outcome,
        note=clean_text(note, "note", NOTE_MAX_LENGTH, required=False),
        at=at,
        by=by,
    )
    reached = channel == ContactChannel.PHONE and outcome == ContactOutcome.REACHED
    if reached and (case.first_contacted_at is None or at < case.first_contacted_at):
        case.first_contacted_at, case.deadline_at = at, at + ENGAGEMENT_WINDOW
        case.save(update_fields=["first_contacted_at", "deadline_at"])
    audit(by, "record_contact_attempt", case.store_account, f"case:{case.pk}", note)
    return attempt


@transaction.atomic
def close_case(*, case: AHACase, resolved: bool, by: User, note: str) -> AHACase:
    """A specialist closes an engaged case as resolved, or as unresolved (R5, deactivation)."""
    case = _locked_case(case)
    if case.status != CaseStatus.ENGAGED:
        raise ValidationError(
            "Only a case the seller has engaged with can be closed.", code="not_engaged"
        )
    note = clean_text(note, "note", NOTE_MAX_LENGTH, required=not resolved)
    close_as(case, CaseStatus.RESOLVED if resolved else CaseStatus.UNRESOLVED, by=by, note=note)
    audit(by, "close_case", case.store_account, f"case:{case.pk}", note)
    if resolved:
        _resolve_case_violation(case, by=by)
    else:
        lose_aha(case, RemovalReason.R5, by=by, note=note)
    return case


@transaction.atomic
def resolve_violation(
    *,
    violation: Violation,
    by: User | None,
    note: str = "",
    resolved_at: dt.datetime | None = None,
) -> Violation:
    """Mark a violation resolved (now, or when upstream resolved it); the day close counts its
    points back from the local day of resolution, a past one from the next close on (§10)."""
    violation = Violation.objects.select_for_update().get(pk=violation.pk)
    if violation.resolved_at is not None:
        raise ValidationError("This violation is already resolved.", code="resolved")
    violation.resolved_at = resolved_at or timezone.now()
    violation.resolved_by = by
    violation.save(update_fields=["resolved_at", "resolved_by"])
    if by is not None:
        audit(by, "resolve_violation", violation.store_account, f"violation:{violation.pk}", note)
    return violation


def _resolve_case_violation(case: AHACase, *, by: User) -> None:
    if case.violation is None or case.violation.resolved_at is not None:
        return
    resolve_violation(violation=case.violation, by=by, note=f"Resolved in AHA case {case.pk}")
    # The other cases of an account-wide violation have nothing left to fix.
    siblings = case.violation.cases.filter(status__in=OPEN_CASE_STATUSES).exclude(pk=case.pk)
    for sibling in siblings.select_related("store_account__seller", "store_account__marketplace"):
        close_as(sibling, CaseStatus.RESOLVED, by=by, note=f"Resolved with AHA case {case.pk}")


def close_as(case: AHACase, status: str, *, by: User | None, note: str) -> None:
    case.status = status
    case.closed_at = timezone.now()
    case.closed_by = by
    case.close_note = note
    case.save(update_fields=["status", "closed_at", "closed_by", "close_note"])
    if status != CaseStatus.MISSED:
        # A missed case is told by the "AHA lost" email (reason R4).
        queue_email(
            kind=EmailKind.CASE_CLOSED,
            key=f"case_closed:{case.pk}",
            seller=case.store_account.seller,
            store_account=case.store_account,
            context={
                "case_id": case.pk,
                "resolved": status == CaseStatus.RESOLVED,
                "closed_at": case.closed_at,
            },
        )


def lose_aha(case: AHACase, reason: RemovalReason, *, by: User | None, note: str) -> None:
    account = case.store_account
    day = account.marketplace.local_date()
    remove_from_aha(
        store_account=account,
        reason=reason,
        by=by,
        note=note,
        day=day,
        case=case,
    )
    # R4 and R5 deactivate even if the store account had already lost AHA for another reason.
    account.refresh_from_db(fields=["status"])
    if account.status != StoreStatus.DEACTIVATED:
        deactivate_on_removal(account, reason, day=day, case=case)
    violation = case.violation
    if violation is None or violation.scope != ViolationScope.ACCOUNT_WIDE:
        return
    if not violation.cases.filter(status__in=OPEN_CASE_STATUSES).exists():
        # No case protects the seller's other store accounts any more.
        now = timezone.now()
        for other in affected_accounts(violation):
            if other.pk != account.pk and other.pk not in enrolled_ids([other.pk]):
                deactivate_for_violation(other, violation, now=now)


def _engage(case: AHACase, how: str) -> None:
    if case.engaged_at is not None:
        return
    case.engaged_at = timezone.now()
    case.engagement = how
    case.status = CaseStatus.ENGAGED
    case.save(update_fields=["engaged_at", "engagement", "status"])


def _require_open(case: AHACase) -> None:
    if not case.is_open:
        raise ValidationError("This AHA case is closed.", code="closed")
    missed = case.deadline_at is not None and case.deadline_at <= timezone.now()
    if case.status == CaseStatus.OPEN and missed:
        raise ValidationError("The deadline of this AHA case has passed.", code="deadline_passed")


def _locked_case(case: AHACase) -> AHACase:
    return (
        AHACase.objects.select_for_update(of=("self",))
        .select_related("store_account__seller", "store_account__marketplace", "violation")
        .get(pk=case.pk)
    )
