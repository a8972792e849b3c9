"""Builders for the seller dashboard tests: a store account with history, issues and cases."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from accounts.models import StoreAccount
from health.eligibility import ENGAGEMENT_WINDOW
from health.models import (
    AHACase,
    CaseTrigger,
    DailyRating,
    HealthState,
    Severity,
    Violation,
    ViolationCategory,
)
from health.rating import AHA_LINE
from health.state import mask_to_bytes


def yesterday(store_account: StoreAccount) -> dt.date:
    return store_account.marketplace.local_date() - dt.timedelta(days=1)


def add_history(store_account: StoreAccount, *, days: int, ahr: int = 300, below_every: int = 0):
    """`days` closed days ending yesterday, a day below the AHA line every `below_every` days."""
    last = yesterday(store_account)
    ratings = []
    mask = 0
    for offset in range(days):
        below = below_every and offset % below_every == 0
        value = AHA_LINE - 40 if below else ahr + offset % 7
        ratings.append(
            DailyRating(
                store_account=store_account, day=last - dt.timedelta(days=offset), ahr=value
            )
        )
        if below and offset < 180:
            mask |= 1 << offset
    DailyRating.objects.bulk_create(ratings)
    HealthState.objects.update_or_create(
        store_account=store_account,
        defaults={
            "last_closed_day": last,
            "ahr": ratings[0].ahr,
            "days_on_record": min(days, 180),
            "below_mask": mask_to_bytes(mask),
        },
    )


def add_violations(store_account: StoreAccount, count: int) -> list[Violation]:
    categories = list(ViolationCategory.values)
    severities = [Severity.LOW, Severity.MEDIUM, Severity.HIGH]
    now = timezone.now()
    return Violation.objects.bulk_create(
        Violation(
            store_account=store_account,
            category=categories[n % len(categories)],
            severity=severities[n % len(severities)],
            detected_at=now - dt.timedelta(days=n % 170, hours=1),
            description=f"finding {n}",
        )
        for n in range(count)
    )


def open_case(store_account: StoreAccount, *, contacted: bool = True) -> AHACase:
    """An open AHA case, first contacted now (so its deadline runs) unless `contacted` is off."""
    now = timezone.now()
    violation = Violation.objects.create(
        store_account=store_account,
        category=ViolationCategory.SAFETY_COMPLAINTS,
        severity=Severity.CRITICAL,
        deactivation_level=True,
        detected_at=now,
    )
    return AHACase.objects.create(
        store_account=store_account,
        trigger=CaseTrigger.VIOLATION,
        violation=violation,
        trigger_day=store_account.marketplace.local_date(),
        first_contacted_at=now if contacted else None,
        deadline_at=now + ENGAGEMENT_WINDOW if contacted else None,
    )
