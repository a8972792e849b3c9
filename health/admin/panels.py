"""The read-only panels of the store account page, computed by the same functions the nightly
job and the dashboard use (health.state, health.chart), never re-implemented here."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.admin_times import zoned_time
from accounts.models import EmergencyContact, Seller, StoreAccount
from health.chart import build_trend
from health.models import (
    AHACase,
    CallbackRequest,
    ContactAttempt,
    DailyRating,
    HealthState,
    OutboxEmail,
    Violation,
)
from health.rating import AHA_LINE, WINDOW_DAYS
from health.state import explain_eligibility

PANEL_ROWS = 20


def chart_last_day(store_account: StoreAccount, state: HealthState | None) -> dt.date:
    if state is not None and state.last_closed_day is not None:
        return state.last_closed_day
    return store_account.marketplace.local_date() - dt.timedelta(days=1)


def store_account_panels(store_account: StoreAccount) -> dict[str, Any]:
    """Everything the store account page shows beside its fields."""
    state = HealthState.objects.filter(store_account=store_account).first()
    last_day = chart_last_day(store_account, state)
    ratings = DailyRating.objects.filter(
        store_account=store_account,
        day__gt=last_day - dt.timedelta(days=WINDOW_DAYS),
        day__lte=last_day,
    ).values_list("day", "ahr")
    eligibility = explain_eligibility(store_account)
    chart = build_trend(ratings, last_day=last_day, days=WINDOW_DAYS)
    return {
        "health_state": state,
        "chart": chart,
        "aha_line": AHA_LINE,
        "eligibility": eligibility,
        "failing_criteria": [(c.value, c.label) for c in eligibility.failing],
        "enrollment_events": store_account.enrollment_events.select_related("by")[:PANEL_ROWS],
        "violations": Violation.objects.affecting(store_account)[:PANEL_ROWS],
        "cases": AHACase.objects.filter(store_account=store_account)[:PANEL_ROWS],
        "enforcements": store_account.enforcements.all()[:PANEL_ROWS],
        "callbacks": CallbackRequest.objects.for_seller(store_account.seller_id).order_by(
            "-created_at"
        )[:PANEL_ROWS],
        "emails": OutboxEmail.objects.filter(store_account=store_account)[:PANEL_ROWS],
    }


SELLER_PANEL_ROWS = 10


def seller_panel(seller: Seller, stores: QuerySet[StoreAccount]) -> dict[str, Any]:
    """The seller in view, limited to `stores` (the user's): whom to call and what is going on.

    A fixed number of queries whatever the seller's history: every list is capped."""
    contact = EmergencyContact.objects.filter(seller=seller).first()
    accounts = list(
        stores.filter(seller=seller).select_related("marketplace", "health").order_by("marketplace")
    )
    now = timezone.now()
    in_scope = [account.pk for account in accounts]
    cases = AHACase.objects.open().filter(store_account__in=in_scope)
    return {
        "seller": seller,
        "contact": contact,
        "language": seller.get_language_display(),
        "stores": [
            {
                "account": account,
                "state": getattr(account, "health", None),
                "local_now": zoned_time(now, account.marketplace),
            }
            for account in accounts
        ],
        "open_cases": list(cases.select_related("store_account__marketplace")[:SELLER_PANEL_ROWS]),
        "attempts": list(
            ContactAttempt.objects.filter(case__store_account__in=in_scope)
            .select_related("by", "case__store_account__marketplace")
            .order_by("-at")[:SELLER_PANEL_ROWS]
        ),
        "callbacks": list(
            CallbackRequest.objects.for_seller(seller)
            .select_related("claimed_by")
            .order_by("-created_at")[:SELLER_PANEL_ROWS]
        ),
        "emails": list(
            OutboxEmail.objects.filter(seller=seller)
            .filter(Q(store_account__in=in_scope) | Q(store_account__isnull=True))
            .select_related("store_account__marketplace")
            .order_by("-created_at")[:SELLER_PANEL_ROWS]
        ),
    }
