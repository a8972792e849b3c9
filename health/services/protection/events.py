"""Deactivation-level events as they arrive: a violation recorded, or AHRs that closed a day below
rating.AT_RISK_FROM. Each opens AHA cases for protected store accounts and standard enforcement
for the others."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import StoreAccount, StoreStatus, User
from health import rating
from health.models import (
    AHACase,
    CaseTrigger,
    Severity,
    Violation,
    ViolationCategory,
    ViolationScope,
)
from health.services.protection.cases import open_low_ahr_cases, start_outreach
from health.services.protection.common import (
    DESCRIPTION_MAX_LENGTH,
    EARLIEST_TIME,
    affected_accounts,
    audit,
    check_choice,
    clean_text,
    enrolled_ids,
    load_account,
)
from health.services.protection.enforcement import deactivate_for_violation, open_low_ahr_warnings


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
    check_choice(category, ViolationCategory.values, "violation category")
    check_choice(severity, Severity.values, "severity")
    check_choice(scope, ViolationScope.values, "scope")
    if detected_at > timezone.now():
        raise ValidationError("A violation cannot be detected in the future.", code="future")
    if detected_at < EARLIEST_TIME:
        raise ValidationError("A violation cannot be detected before 2000.", code="too_early")
    store_account = load_account(store_account.pk)
    violation = Violation.objects.create(
        store_account=store_account,
        category=category,
        severity=severity,
        scope=scope,
        # Every critical violation is deactivation-level (rules §5).
        deactivation_level=deactivation_level or severity == Severity.CRITICAL,
        repeat=_is_repeat(store_account, category, detected_at),
        description=clean_text(description, "description", DESCRIPTION_MAX_LENGTH, required=False),
        detected_at=detected_at,
        recorded_by=by,
    )
    # Late data (rules §10): a violation detected before ones already recorded counts for them.
    _mark_later_repeats(violation)
    if by is not None:
        audit(by, "record_violation", store_account, f"violation:{violation.pk}", description)
    if violation.deactivation_level:
        _apply_deactivation_level(violation, now=timezone.now())
    return violation


def _is_repeat(store_account: StoreAccount, category: str, detected_at: dt.datetime) -> bool:
    local_day = store_account.marketplace.local_date
    earlier = (
        Violation.objects.affecting(store_account)
        .filter(
            category=category, detected_at__lt=detected_at, detected_at__gte=detected_at - _SLACK
        )
        .values_list("detected_at", flat=True)
    )
    return rating.is_repeat(
        category, local_day(detected_at), [(category, local_day(at)) for at in earlier]
    )


# Two days of slack on the bounds (a DST hour, a local day's length): the exact test is
# rating.is_repeat on local days.
_SLACK = dt.timedelta(days=rating.WINDOW_DAYS + 2)


def _mark_later_repeats(violation: Violation) -> None:
    """A violation that arrives late makes the later ones of its category in its reach repeats."""
    later = Violation.objects.filter(
        category=violation.category,
        repeat=False,
        detected_at__gt=violation.detected_at,
        detected_at__lte=violation.detected_at + _SLACK,
    ).select_related("store_account__marketplace")
    if violation.scope == ViolationScope.ACCOUNT_WIDE:
        later = later.filter(store_account__seller_id=violation.store_account.seller_id)
    else:
        later = later.filter(store_account_id=violation.store_account_id)
    now_repeats = [
        other.pk
        for other in later
        if rating.is_repeat(
            other.category,
            other.store_account.marketplace.local_date(other.detected_at),
            [
                (
                    violation.category,
                    other.store_account.marketplace.local_date(violation.detected_at),
                )
            ],
        )
    ]
    Violation.objects.filter(pk__in=now_repeats).update(repeat=True)


def _apply_deactivation_level(violation: Violation, *, now: dt.datetime) -> None:
    affected = affected_accounts(violation)
    protected = enrolled_ids([account.pk for account in affected])
    if not protected:
        for account in affected:
            deactivate_for_violation(account, violation, now=now)
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
                start_outreach(case, now=now)


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
    enrolled = enrolled_ids(list(accounts))
    now = timezone.now()
    protected = [account for pk, account in accounts.items() if pk in enrolled]
    others = [
        account
        for pk, account in accounts.items()
        if pk not in enrolled and account.status != StoreStatus.DEACTIVATED
    ]
    return {
        "low_ahr_cases": open_low_ahr_cases(protected, day=day, now=now),
        "low_ahr_warnings": open_low_ahr_warnings(others, day=day, now=now),
    }
