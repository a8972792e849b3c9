"""Shared set-up for the tests of deactivation-level events, AHA cases and enforcement."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from accounts.models import StoreAccount
from health.models import EligibilityStatus, HealthState, Violation
from health.services.protection import record_violation


def enroll(store_account: StoreAccount, *, ahr: int = 300) -> HealthState:
    """Mark a store account enrolled, as a closed day would have."""
    state, _created = HealthState.objects.update_or_create(
        store_account=store_account,
        defaults={
            "enrolled": True,
            "enrolled_since": dt.date(2026, 1, 1),
            "status": EligibilityStatus.ENROLLED,
            "ahr": ahr,
            "last_closed_day": store_account.marketplace.local_date() - dt.timedelta(days=1),
        },
    )
    return state


def set_ahr(store_account: StoreAccount, ahr: int) -> None:
    HealthState.objects.update_or_create(store_account=store_account, defaults={"ahr": ahr})


def violation(
    store_account: StoreAccount,
    *,
    category: str = "listing",
    severity: str = "high",
    scope: str = "store",
    deactivation_level: bool = True,
    detected_at: dt.datetime | None = None,
) -> Violation:
    return record_violation(
        store_account=store_account,
        category=category,
        severity=severity,
        scope=scope,
        deactivation_level=deactivation_level,
        detected_at=detected_at or timezone.now(),
        description="Found by a test",
    )
