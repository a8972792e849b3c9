"""Deactivation-level events (rules §5): AHA cases for protected store accounts, standard
enforcement for the others, engagement, deadlines and appeals.

Decisions:
- A store account is protected when its HealthState says enrolled (no row: not enrolled).
- An account-wide deactivation-level violation opens one AHA case on each enrolled store account
  of the seller (each has its own 72-hour process and dashboard). The seller's other store
  accounts are covered by those cases: none is deactivated while one runs. If the last of them
  ends missed or unresolved, standard enforcement then deactivates the unprotected ones.
- The 72-hour clock starts when the outreach email is queued (it is sent within seconds), or at an
  earlier successful phone contact a specialist records.
- Engagement after the deadline is refused: the case is missed even if the watcher has not run.
- The deadline of a low-AHR warning is 3 days from when it is issued (not from the local end of the
  day), so a day closed late (a caught-up night) still gives the seller the full period.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import StoreAccount, StoreStatus, User
from health import rating
from health.eligibility import (
    ENGAGEMENT_REMINDERS,
    ENGAGEMENT_WINDOW,
    STANDARD_WARNING_PERIOD,
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
    Enforcement,
    EnforcementKind,
    EnforcementStatus,
    EngagementKind,
    HealthState,
    OutboxEmail,
    PlanOfAction,
    Severity,
    Violation,
    ViolationCategory,
    ViolationScope,
)
from health.services.audit import record_action
from health.services.enrollment import remove_from_aha
from health.services.outbox import EmailDraft, queue_email, queue_emails

PLAN_FIELDS = ("root_cause", "actions_taken", "prevention")
PLAN_LABELS = {
    "root_cause": "the root cause",
    "actions_taken": "the actions taken",
    "prevention": "how you will prevent it",
}
DESCRIPTION_MAX_LENGTH = Violation._meta.get_field("description").max_length
NOTE_MAX_LENGTH = AHACase._meta.get_field("close_note").max_length
PLAN_MAX_LENGTH = PlanOfAction._meta.get_field("root_cause").max_length


# ---------------------------------------------------------------------------------------------
# Violations
# ---------------------------------------------------------------------------------------------


@transaction.atomic
def record_violation(
    *,
    store_account: StoreAccount,
    category: str,
    severity: str,
    scope: str,
    deactivation_level: bool,
    detected_at: dt.datetime,
    description: str = "",
    by: User | None = None,
) -> Violation:
    """Record a violation and apply its consequences: an AHA case or standard enforcement."""
    _check_choice(category, ViolationCategory.values, "violation category")
    _check_choice(severity, Severity.values, "severity")
    _check_choice(scope, ViolationScope.values, "scope")
    if detected_at > timezone.now():
        raise ValidationError("A violation cannot be detected in the future.", code="future")
    store_account = _account(store_account.pk)
    violation = Violation.objects.create(
        store_account=store_account,
        category=category,
        severity=severity,
        scope=scope,
        # Every critical violation is deactivation-level (rules §5).
        deactivation_level=deactivation_level or severity == Severity.CRITICAL,
        repeat=_is_repeat(store_account, category, detected_at),
        description=_text(description, "description", DESCRIPTION_MAX_LENGTH, required=False),
        detected_at=detected_at,
        recorded_by=by,
    )
    if by is not None:
        _audit(by, "record_violation", store_account, f"violation:{violation.pk}", description)
    if violation.deactivation_level:
        _apply_deactivation_level(violation, now=timezone.now())
    return violation


def _is_repeat(store_account: StoreAccount, category: str, detected_at: dt.datetime) -> bool:
    local_day = store_account.marketplace.local_date
    # A day of slack on the bound: the exact 180-day test is rating.is_repeat on local days.
    since = detected_at - dt.timedelta(days=rating.WINDOW_DAYS + 1)
    earlier = (
        Violation.objects.affecting(store_account)
        .filter(category=category, detected_at__lt=detected_at, detected_at__gte=since)
        .values_list("detected_at", flat=True)
    )
    return rating.is_repeat(
        category, local_day(detected_at), [(category, local_day(at)) for at in earlier]
    )


def _apply_deactivation_level(violation: Violation, *, now: dt.datetime) -> None:
    affected = _affected_accounts(violation)
    protected = _enrolled_ids([account.pk for account in affected])
    if not protected:
        for account in affected:
            _deactivate_for_violation(account, violation, now=now)
        return
    for account in affected:
        if account.pk in protected:
            case, created = AHACase.objects.get_or_create(
                store_account=account,
                violation=violation,
                defaults={
                    "trigger": CaseTrigger.VIOLATION,
                    "trigger_day": account.marketplace.local_date(violation.detected_at),
                    "opened_at": now,
                },
            )
            if created:
                _start_outreach(case, now=now)


def _affected_accounts(violation: Violation) -> list[StoreAccount]:
    if violation.scope == ViolationScope.ACCOUNT_WIDE:
        accounts = StoreAccount.objects.filter(seller_id=violation.store_account.seller_id)
    else:
        accounts = StoreAccount.objects.filter(pk=violation.store_account_id)
    return list(accounts.select_related("marketplace", "seller").order_by("pk"))


def _enrolled_ids(store_account_ids: list[int]) -> set[int]:
    return set(
        HealthState.objects.enrolled()
        .filter(store_account_id__in=store_account_ids)
        .values_list("store_account_id", flat=True)
    )


@transaction.atomic
def resolve_violation(*, violation: Violation, by: User | None, note: str = "") -> Violation:
    """Mark a violation resolved; the day close counts its points back from the local day."""
    violation = Violation.objects.select_for_update().get(pk=violation.pk)
    if violation.resolved_at is not None:
        raise ValidationError("This violation is already resolved.", code="resolved")
    violation.resolved_at = timezone.now()
    violation.resolved_by = by
    violation.save(update_fields=["resolved_at", "resolved_by"])
    if by is not None:
        _audit(by, "resolve_violation", violation.store_account, f"violation:{violation.pk}", note)
    return violation


# ---------------------------------------------------------------------------------------------
# Standard enforcement
# ---------------------------------------------------------------------------------------------


def _deactivate_for_violation(
    account: StoreAccount, violation: Violation, *, now: dt.datetime
) -> None:
    enforcement, created = Enforcement.objects.get_or_create(
        store_account=account,
        violation=violation,
        defaults={
            "kind": EnforcementKind.DEACTIVATION,
            "status": EnforcementStatus.DEACTIVATED,
            "trigger_day": account.marketplace.local_date(violation.detected_at),
            "opened_at": now,
            "decided_at": now,
        },
    )
    if created:
        _deactivate(account, enforcement)


def _deactivate(account: StoreAccount, enforcement: Enforcement) -> None:
    StoreAccount.objects.filter(pk=account.pk).update(status=StoreStatus.DEACTIVATED)
    account.status = StoreStatus.DEACTIVATED
    _queue(_deactivated_email(account, enforcement))


def _deactivated_email(account: StoreAccount, enforcement: Enforcement) -> EmailDraft:
    violation = enforcement.violation
    return EmailDraft(
        kind=EmailKind.DEACTIVATED,
        key=f"deactivated:enforcement:{enforcement.pk}",
        seller=account.seller,
        store_account=account,
        context={
            "enforcement_id": enforcement.pk,
            "trigger": "violation" if violation else "low_ahr",
            "category": violation.category if violation else "",
            "deactivated_at": enforcement.decided_at or timezone.now(),
        },
    )


@transaction.atomic
def appeal_enforcement(
    *,
    enforcement: Enforcement,
    root_cause: str,
    actions_taken: str,
    prevention: str,
    by: User,
) -> Enforcement:
    """The seller appeals a deactivation with a plan of action."""
    enforcement = _locked_enforcement(enforcement)
    # Decision: after a rejected appeal the seller may appeal again with a better plan.
    if enforcement.status not in (EnforcementStatus.DEACTIVATED, EnforcementStatus.REJECTED):
        raise ValidationError("Only a deactivation can be appealed.", code="not_appealable")
    _set_plan(enforcement, root_cause, actions_taken, prevention)
    enforcement.status = EnforcementStatus.APPEALED
    enforcement.save()
    return enforcement


@transaction.atomic
def reinstate(*, enforcement: Enforcement, by: User, note: str) -> Enforcement:
    """A specialist reinstates a deactivated store account (status back to NORMAL)."""
    enforcement = _locked_enforcement(enforcement)
    if enforcement.status not in (EnforcementStatus.APPEALED, EnforcementStatus.DEACTIVATED):
        raise ValidationError("This store account is not deactivated.", code="not_deactivated")
    _decide(enforcement, EnforcementStatus.REINSTATED, by=by, note=note, required=False)
    account = enforcement.store_account
    still_deactivated = (
        Enforcement.objects.filter(store_account=account)
        .exclude(pk=enforcement.pk)
        .filter(status__in=(EnforcementStatus.DEACTIVATED, EnforcementStatus.APPEALED))
        .exists()
    )
    if not still_deactivated:
        StoreAccount.objects.filter(pk=account.pk).update(status=StoreStatus.NORMAL)
    queue_email(
        kind=EmailKind.REINSTATED,
        key=f"reinstated:enforcement:{enforcement.pk}",
        seller=account.seller,
        store_account=account,
        context={"enforcement_id": enforcement.pk, "reinstated_at": enforcement.decided_at},
    )
    return enforcement


@transaction.atomic
def reject_appeal(*, enforcement: Enforcement, by: User, note: str) -> Enforcement:
    """A specialist rejects an appeal; the store account stays deactivated."""
    enforcement = _locked_enforcement(enforcement)
    if enforcement.status != EnforcementStatus.APPEALED:
        raise ValidationError("There is no appeal waiting on this enforcement.", code="no_appeal")
    return _decide(enforcement, EnforcementStatus.REJECTED, by=by, note=note, required=True)


def _decide(
    enforcement: Enforcement, status: str, *, by: User, note: str, required: bool
) -> Enforcement:
    enforcement.decision_note = _text(note, "note", NOTE_MAX_LENGTH, required=required)
    enforcement.status = status
    enforcement.decided_at = timezone.now()
    enforcement.decided_by = by
    enforcement.save(update_fields=["status", "decided_at", "decided_by", "decision_note"])
    target = f"enforcement:{enforcement.pk}"
    _audit(by, f"enforcement_{status}", enforcement.store_account, target, note)
    return enforcement


def _locked_enforcement(enforcement: Enforcement) -> Enforcement:
    return (
        Enforcement.objects.select_for_update(of=("self",))
        .select_related("store_account__seller", "store_account__marketplace")
        .get(pk=enforcement.pk)
    )


# ---------------------------------------------------------------------------------------------
# AHR below 100 at the close of a day
# ---------------------------------------------------------------------------------------------


@transaction.atomic
def handle_low_ratings(
    *, marketplace_code: str, day: dt.date, store_account_ids: list[int]
) -> dict[str, int]:
    """Open AHA cases (enrolled) or 3-day warnings (others) for AHRs that closed below 100."""
    accounts = {
        account.pk: account
        for account in StoreAccount.objects.filter(
            pk__in=store_account_ids, marketplace_id=marketplace_code
        ).select_related("seller", "marketplace")
    }
    enrolled = _enrolled_ids(list(accounts))
    now = timezone.now()
    protected = [account for pk, account in accounts.items() if pk in enrolled]
    others = [
        account
        for pk, account in accounts.items()
        if pk not in enrolled and account.status != StoreStatus.DEACTIVATED
    ]
    return {
        "low_ahr_cases": _open_low_ahr_cases(protected, day=day, now=now),
        "low_ahr_warnings": _open_low_ahr_warnings(others, day=day, now=now),
    }


def _open_low_ahr_cases(accounts: list[StoreAccount], *, day: dt.date, now: dt.datetime) -> int:
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


def _open_low_ahr_warnings(accounts: list[StoreAccount], *, day: dt.date, now: dt.datetime) -> int:
    running = set(
        Enforcement.objects.filter(
            kind=EnforcementKind.LOW_AHR_WARNING,
            status=EnforcementStatus.WARNING,
            store_account__in=accounts,
        ).values_list("store_account_id", flat=True)
    )
    candidates = [account for account in accounts if account.pk not in running]
    Enforcement.objects.bulk_create(
        [
            Enforcement(
                store_account=account,
                kind=EnforcementKind.LOW_AHR_WARNING,
                status=EnforcementStatus.WARNING,
                trigger_day=day,
                opened_at=now,
                deadline_at=now + STANDARD_WARNING_PERIOD,
            )
            for account in candidates
        ],
        ignore_conflicts=True,
    )
    warnings = Enforcement.objects.filter(
        kind=EnforcementKind.LOW_AHR_WARNING, trigger_day=day, store_account__in=candidates
    ).select_related("store_account__seller", "store_account__marketplace")
    # Keys make a rerun of the same day queue nothing new.
    return queue_emails(_warning_email(warning) for warning in warnings)


def _warning_email(warning: Enforcement) -> EmailDraft:
    account = warning.store_account
    return EmailDraft(
        kind=EmailKind.LOW_AHR_WARNING,
        key=f"low_ahr_warning:{warning.pk}",
        seller=account.seller,
        store_account=account,
        context={
            "enforcement_id": warning.pk,
            "day": warning.trigger_day,
            "deadline_at": warning.deadline_at,
            "at_risk_from": rating.AT_RISK_FROM,
        },
    )


# ---------------------------------------------------------------------------------------------
# The AHA case
# ---------------------------------------------------------------------------------------------


def _start_outreach(case: AHACase, *, now: dt.datetime) -> None:
    # The clock starts now unless a specialist already reached the seller by phone.
    if case.first_contacted_at is None or case.first_contacted_at > now:
        case.first_contacted_at, case.deadline_at = now, now + ENGAGEMENT_WINDOW
        case.save(update_fields=["first_contacted_at", "deadline_at"])
    _outreach_attempt(case, now).save()
    _queue(_case_opened_email(case))


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
    _set_plan(case, root_cause, actions_taken, prevention)
    case.save(update_fields=[*PLAN_FIELDS, "plan_submitted_at"])
    _engage(case, EngagementKind.PLAN)
    return case


@transaction.atomic
def mark_engaged(*, case: AHACase, by: User, how: str) -> AHACase:
    """A specialist records that the seller engaged (talked to them, or a completed callback)."""
    _check_choice(how, EngagementKind.values, "engagement")
    case = _locked_case(case)
    _require_open(case)
    if case.engaged_at is None:
        _engage(case, how)
        _audit(by, "mark_engaged", case.store_account, f"case:{case.pk}", how)
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
    _check_choice(channel, ContactChannel.values, "channel")
    _check_choice(outcome, ContactOutcome.values, "outcome")
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
        note=_text(note, "note", NOTE_MAX_LENGTH, required=False),
        at=at,
        by=by,
    )
    reached = channel == ContactChannel.PHONE and outcome == ContactOutcome.REACHED
    if reached and (case.first_contacted_at is None or at < case.first_contacted_at):
        case.first_contacted_at, case.deadline_at = at, at + ENGAGEMENT_WINDOW
        case.save(update_fields=["first_contacted_at", "deadline_at"])
    _audit(by, "record_contact_attempt", case.store_account, f"case:{case.pk}", note)
    return attempt


@transaction.atomic
def close_case(*, case: AHACase, resolved: bool, by: User, note: str) -> AHACase:
    """A specialist closes an engaged case as resolved, or as unresolved (R5, deactivation)."""
    case = _locked_case(case)
    if case.status != CaseStatus.ENGAGED:
        raise ValidationError(
            "Only a case the seller has engaged with can be closed.", code="not_engaged"
        )
    note = _text(note, "note", NOTE_MAX_LENGTH, required=not resolved)
    _close(case, CaseStatus.RESOLVED if resolved else CaseStatus.UNRESOLVED, by=by, note=note)
    _audit(by, "close_case", case.store_account, f"case:{case.pk}", note)
    if resolved:
        _resolve_case_violation(case, by=by)
    else:
        _lose_aha(case, RemovalReason.R5, by=by, note=note)
    return case


def _resolve_case_violation(case: AHACase, *, by: User) -> None:
    if case.violation is None or case.violation.resolved_at is not None:
        return
    resolve_violation(violation=case.violation, by=by, note=f"Resolved in AHA case {case.pk}")
    # The other cases of an account-wide violation have nothing left to fix.
    siblings = case.violation.cases.filter(status__in=OPEN_CASE_STATUSES).exclude(pk=case.pk)
    for sibling in siblings.select_related("store_account__seller", "store_account__marketplace"):
        _close(sibling, CaseStatus.RESOLVED, by=by, note=f"Resolved with AHA case {case.pk}")


def _close(case: AHACase, status: str, *, by: User | None, note: str) -> None:
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


def _lose_aha(case: AHACase, reason: RemovalReason, *, by: User | None, note: str) -> None:
    account = case.store_account
    remove_from_aha(
        store_account=account,
        reason=reason,
        by=by,
        note=note,
        day=account.marketplace.local_date(),
    )
    # R4 and R5 deactivate even if the store account had already lost AHA for another reason.
    StoreAccount.objects.filter(pk=account.pk).update(status=StoreStatus.DEACTIVATED)
    violation = case.violation
    if violation is None or violation.scope != ViolationScope.ACCOUNT_WIDE:
        return
    if not violation.cases.filter(status__in=OPEN_CASE_STATUSES).exists():
        # No case protects the seller's other store accounts any more.
        now = timezone.now()
        for other in _affected_accounts(violation):
            if other.pk != account.pk and other.pk not in _enrolled_ids([other.pk]):
                _deactivate_for_violation(other, violation, now=now)


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


# ---------------------------------------------------------------------------------------------
# Deadlines
# ---------------------------------------------------------------------------------------------


def watch_deadlines(*, now: dt.datetime) -> dict[str, int]:
    """Send due case reminders, miss cases past their deadline, decide expired AHR warnings."""
    # Not one transaction: each case and warning is decided in its own, so a lock held on one
    # row never stalls the rest, and two watchers at once skip each other's rows.
    missed = sum(_miss_case(pk, now=now) for pk in _overdue_case_ids(now))
    deactivated = cleared = 0
    for pk in _expired_warning_ids(now):
        outcome = _decide_warning(pk, now=now)
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
    _close(case, CaseStatus.MISSED, by=None, note="No engagement by the deadline.")
    _lose_aha(case, RemovalReason.R4, by=None, note=f"AHA case {case.pk} missed its deadline.")
    return True


def _expired_warning_ids(now: dt.datetime) -> list[int]:
    expired = Enforcement.objects.filter(
        kind=EnforcementKind.LOW_AHR_WARNING,
        status=EnforcementStatus.WARNING,
        deadline_at__lte=now,
    )
    return list(expired.values_list("pk", flat=True))


@transaction.atomic
def _decide_warning(enforcement_id: int, *, now: dt.datetime) -> str | None:
    warning = (
        Enforcement.objects.select_for_update(of=("self",), skip_locked=True)
        .select_related("store_account__seller", "store_account__marketplace")
        .filter(pk=enforcement_id, status=EnforcementStatus.WARNING)
        .first()
    )
    if warning is None:
        return None
    states = HealthState.objects.filter(store_account_id=warning.store_account_id)
    latest = states.values_list("ahr", flat=True).first()
    still_low = latest is not None and rating.is_deactivation_level(latest)
    warning.status = EnforcementStatus.DEACTIVATED if still_low else EnforcementStatus.CLEARED
    warning.decided_at = now
    warning.save(update_fields=["status", "decided_at"])
    if still_low:
        _deactivate(warning.store_account, warning)
    return warning.status


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


# ---------------------------------------------------------------------------------------------
# Small shared helpers
# ---------------------------------------------------------------------------------------------


def _set_plan(
    target: AHACase | Enforcement, root_cause: str, actions_taken: str, prevention: str
) -> None:
    texts = dict(zip(PLAN_FIELDS, (root_cause, actions_taken, prevention), strict=True))
    for name, text in texts.items():
        setattr(target, name, _text(text, PLAN_LABELS[name], PLAN_MAX_LENGTH, required=True))
    target.plan_submitted_at = timezone.now()


def _text(value: str, label: str, max_length: int, *, required: bool) -> str:
    text = (value or "").strip()
    if required and not text:
        raise ValidationError(f"Please write {label}.", code="required")
    if len(text) > max_length:
        raise ValidationError(
            f"Keep {label} under {max_length} characters (it has {len(text)}).",
            code="too_long",
        )
    return text


def _check_choice(value: str, allowed: list[str], what: str) -> None:
    if value not in allowed:
        raise ValidationError(f"Unknown {what}: {value!r}.", code="invalid_choice")


def _queue(draft: EmailDraft) -> None:
    queue_email(
        kind=draft.kind,
        key=draft.key,
        seller=draft.seller,
        store_account=draft.store_account,
        context=draft.context,
    )


def _account(pk: int) -> StoreAccount:
    return StoreAccount.objects.select_related("marketplace", "seller").get(pk=pk)


def _audit(by: User, action: str, account: StoreAccount, target: str, reason: str) -> None:
    record_action(actor=by, action=action, store_account=account, target=target, reason=reason)
