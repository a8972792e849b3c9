"""Standard enforcement for store accounts without protection: deactivation, the 3-day low-AHR
warning, and appeals (rules §5)."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import StoreAccount, StoreStatus, User
from health import rating
from health.eligibility import (
    STANDARD_WARNING_PERIOD,
)
from health.models import (
    EmailKind,
    Enforcement,
    EnforcementKind,
    EnforcementStatus,
    HealthState,
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
    StoreAccount.objects.filter(pk=account.pk).update(status=StoreStatus.DEACTIVATED)
    account.status = StoreStatus.DEACTIVATED
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
    set_plan(enforcement, root_cause, actions_taken, prevention)
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
