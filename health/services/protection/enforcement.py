"""Standard enforcement for store accounts without protection: deactivation, the 3-day low-AHR
warning, and appeals (rules §5)."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import StoreAccount, StoreStatus, User
from health import rating
from health.eligibility import STANDARD_WARNING_PERIOD, RemovalReason
from health.models import (
    AHACase,
    Appeal,
    AppealStatus,
    EmailKind,
    Enforcement,
    EnforcementKind,
    EnforcementStatus,
    HealthState,
    StatusCause,
    Violation,
)
from health.services.outbox import EmailDraft, queue_email, queue_emails
from health.services.protection.common import (
    NOTE_MAX_LENGTH,
    audit,
    clean_text,
    queue_draft,
    set_plan,
)
from health.services.status import change_status

# A deactivation the seller may appeal: one never appealed, or one whose appeal was rejected.
APPEALABLE = (EnforcementStatus.DEACTIVATED, EnforcementStatus.REJECTED)


def deactivate_for_violation(
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
    change_status(
        store_account=account, status=StoreStatus.DEACTIVATED, cause=StatusCause.DEACTIVATION
    )
    queue_draft(_deactivated_email(account, enforcement))


def _deactivated_email(account: StoreAccount, enforcement: Enforcement) -> EmailDraft:
    violation = enforcement.violation
    return EmailDraft(
        kind=EmailKind.DEACTIVATED,
        key=f"deactivated:enforcement:{enforcement.pk}",
        seller=account.seller,
        store_account=account,
        context={
            "enforcement_id": enforcement.pk,
            "trigger": _trigger(enforcement),
            "reason": enforcement.reason,
            "category": violation.category if violation else "",
            "deactivated_at": enforcement.decided_at or timezone.now(),
        },
    )


def deactivate_on_removal(
    account: StoreAccount,
    reason: RemovalReason,
    *,
    day: dt.date,
    case: AHACase | None = None,
    now: dt.datetime | None = None,
) -> Enforcement:
    """Deactivate a store account that lost AHA for R4, R5 or R7, as an enforcement the seller
    can appeal like any other deactivation (no dead end)."""
    now = now or timezone.now()
    enforcement = Enforcement.objects.create(
        store_account=account,
        kind=EnforcementKind.REMOVAL,
        reason=reason.value,
        case=case,
        violation=None,
        status=EnforcementStatus.DEACTIVATED,
        trigger_day=day,
        opened_at=now,
        decided_at=now,
    )
    _deactivate(account, enforcement)
    return enforcement


def _trigger(enforcement: Enforcement) -> str:
    if enforcement.kind == EnforcementKind.REMOVAL:
        return "removal"
    return "violation" if enforcement.violation_id else "low_ahr"


@transaction.atomic
def appeal_enforcement(
    *,
    enforcement: Enforcement,
    root_cause: str,
    actions_taken: str,
    prevention: str,
    by: User,
) -> Appeal:
    """The seller appeals a deactivation with a plan of action (again after a rejection)."""
    enforcement = _locked_enforcement(enforcement)
    if enforcement.status not in APPEALABLE:
        raise ValidationError("Only a deactivation can be appealed.", code="not_appealable")
    appeal = Appeal(enforcement=enforcement, submitted_by=by)
    set_plan(appeal, root_cause, actions_taken, prevention)
    appeal.save()
    # The enforcement keeps the latest plan too, for the specialists' list.
    set_plan(enforcement, root_cause, actions_taken, prevention)
    enforcement.status = EnforcementStatus.APPEALED
    enforcement.save()
    account = enforcement.store_account
    queue_email(
        kind=EmailKind.APPEAL_RECEIVED,
        key=f"appeal_received:appeal:{appeal.pk}",
        seller=account.seller,
        store_account=account,
        context={"enforcement_id": enforcement.pk, "submitted_at": appeal.plan_submitted_at},
    )
    return appeal


@transaction.atomic
def reinstate(*, enforcement: Enforcement, by: User, note: str) -> Enforcement:
    """A specialist reinstates a deactivated store account (status back to NORMAL)."""
    enforcement = _locked_enforcement(enforcement)
    if enforcement.status not in (EnforcementStatus.APPEALED, EnforcementStatus.DEACTIVATED):
        raise ValidationError("This store account is not deactivated.", code="not_deactivated")
    _decide(enforcement, EnforcementStatus.REINSTATED, by=by, note=note, required=False)
    _decide_pending_appeal(enforcement, AppealStatus.ACCEPTED)
    account = enforcement.store_account
    still_deactivated = (
        Enforcement.objects.filter(store_account=account)
        .exclude(pk=enforcement.pk)
        .filter(status__in=(*APPEALABLE, EnforcementStatus.APPEALED))
        .exists()
    )
    if not still_deactivated:
        change_status(
            store_account=account, status=StoreStatus.NORMAL, cause=StatusCause.REINSTATEMENT
        )
    queue_email(
        kind=EmailKind.REINSTATED,
        key=f"reinstated:enforcement:{enforcement.pk}",
        seller=account.seller,
        store_account=account,
        context={
            "enforcement_id": enforcement.pk,
            "reinstated_at": enforcement.decided_at,
            "note": enforcement.decision_note,
        },
    )
    return enforcement


@transaction.atomic
def reject_appeal(*, enforcement: Enforcement, by: User, note: str) -> Enforcement:
    """A specialist rejects an appeal; the store account stays deactivated and the seller may
    appeal again with a new plan."""
    enforcement = _locked_enforcement(enforcement)
    if enforcement.status != EnforcementStatus.APPEALED:
        raise ValidationError("There is no appeal waiting on this enforcement.", code="no_appeal")
    _decide(enforcement, EnforcementStatus.REJECTED, by=by, note=note, required=True)
    appeal = _decide_pending_appeal(enforcement, AppealStatus.REJECTED)
    account = enforcement.store_account
    occurrence = appeal.pk if appeal is not None else enforcement.decided_at.isoformat()
    queue_email(
        kind=EmailKind.APPEAL_REJECTED,
        key=f"appeal_rejected:appeal:{occurrence}",
        seller=account.seller,
        store_account=account,
        context={
            "enforcement_id": enforcement.pk,
            "rejected_at": enforcement.decided_at,
            "note": enforcement.decision_note,
        },
    )
    return enforcement


def _decide_pending_appeal(enforcement: Enforcement, status: str) -> Appeal | None:
    appeal = enforcement.appeals.pending().select_for_update().first()
    if appeal is None:
        return None
    appeal.status = status
    appeal.decided_at = enforcement.decided_at
    appeal.decided_by = enforcement.decided_by
    appeal.decision_note = enforcement.decision_note
    appeal.save(update_fields=["status", "decided_at", "decided_by", "decision_note"])
    return appeal


def _decide(
    enforcement: Enforcement, status: str, *, by: User, note: str, required: bool
) -> Enforcement:
    enforcement.decision_note = clean_text(note, "note", NOTE_MAX_LENGTH, required=required)
    enforcement.status = status
    enforcement.decided_at = timezone.now()
    enforcement.decided_by = by
    enforcement.save(update_fields=["status", "decided_at", "decided_by", "decision_note"])
    target = f"enforcement:{enforcement.pk}"
    audit(by, f"enforcement_{status}", enforcement.store_account, target, note)
    return enforcement


def _locked_enforcement(enforcement: Enforcement) -> Enforcement:
    return (
        Enforcement.objects.select_for_update(of=("self",))
        .select_related("store_account__seller", "store_account__marketplace")
        .get(pk=enforcement.pk)
    )


def open_low_ahr_warnings(accounts: list[StoreAccount], *, day: dt.date, now: dt.datetime) -> int:
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


@transaction.atomic
def decide_warning(enforcement_id: int, *, now: dt.datetime) -> str | None:
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
