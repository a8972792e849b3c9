"""A store account's outlook: why its AHR moved and its forecast, from the stored state.

The reads that turn stored rows into the plain facts health/forecast.py takes, shared by the
seller's dashboard and the admin's store account page. Both pass rows they already fetch (the
state, the violations), and the ratings and orders come in one query (load_series).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction

from django.db.models import IntegerField, Value

from accounts.models import Marketplace, StoreAccount
from health.eligibility import AccountFacts
from health.forecast import (
    EXPLAINED_DAYS,
    DayChange,
    Forecast,
    Start,
    explain_days,
    forecast,
    is_open_on,
    recent_daily_orders,
    what_if,
    window_orders,
)
from health.models import DailyOrders, DailyRating, HealthState, Violation
from health.rating import WINDOW_DAYS, Severity, ViolationFacts
from health.state import account_facts, rating_window

# The oldest detection that can still matter to an explained day: a violation detected up to
# 180 days before the first explained day may count on it, or expire during the explained days.
VIOLATION_LOOKBACK_DAYS = EXPLAINED_DAYS + WINDOW_DAYS
_RATING, _ORDERS = 0, 1
# The columns of a violation the outlook reads (and the dashboard already fetches).
OUTLOOK_VIOLATION_FIELDS = ("category", "severity", "detected_at", "resolved_at", "repeat")


@dataclass(frozen=True, slots=True)
class Series:
    """A store account's recorded AHRs and daily orders around its last closed day."""

    ratings: dict[dt.date, int]
    orders: dict[dt.date, int]


def series_days(explained_days: int) -> tuple[int, int]:
    """How many days of ratings and of orders explaining `explained_days` days needs: the day
    before the first for its change, and 180 days of orders before it for its window."""
    return explained_days + 1, explained_days + WINDOW_DAYS


def load_series(
    store_account_id: int, last_day: dt.date, *, rating_days: int, order_days: int
) -> Series:
    """The AHRs of `rating_days` and the orders of `order_days` days ending at `last_day`, in one
    query."""
    ratings = (
        DailyRating.objects.filter(
            store_account_id=store_account_id,
            day__range=(last_day - dt.timedelta(days=rating_days - 1), last_day),
        )
        .annotate(kind=Value(_RATING, output_field=IntegerField()))
        .values_list("kind", "day", "ahr")
    )
    orders = (
        DailyOrders.objects.filter(
            store_account_id=store_account_id,
            day__range=(last_day - dt.timedelta(days=order_days - 1), last_day),
        )
        .annotate(kind=Value(_ORDERS, output_field=IntegerField()))
        .values_list("kind", "day", "orders")
    )
    series = Series(ratings={}, orders={})
    for kind, day, value in ratings.union(orders, all=True):
        (series.ratings if kind == _RATING else series.orders)[day] = value
    return series


def violation_facts(
    marketplace: Marketplace, violations: Iterable[Violation]
) -> dict[int, ViolationFacts]:
    """The rule facts of each violation by its id, on the marketplace's local days (as the day
    close reads them)."""
    return {
        violation.pk: ViolationFacts(
            category=violation.category,
            severity=Severity(violation.severity),
            detected_on=marketplace.local_date(violation.detected_at),
            resolved_on=(
                marketplace.local_date(violation.resolved_at) if violation.resolved_at else None
            ),
            repeat=violation.repeat,
        )
        for violation in violations
    }


def last_day_of(store_account: StoreAccount, state: HealthState) -> dt.date:
    """The last closed day, or for a store account never closed the day before its first close."""
    if state.last_closed_day is not None:
        return state.last_closed_day
    yesterday = store_account.marketplace.local_date() - dt.timedelta(days=1)
    return max(yesterday, store_account.opened_on - dt.timedelta(days=1))


def resolve_day(store_account: StoreAccount, state: HealthState) -> dt.date:
    """The day a what-if resolves violations on: the store's own today, which is the day after
    the last closed one unless a night is still to close."""
    last_day = last_day_of(store_account, state)
    return max(store_account.marketplace.local_date(), last_day + dt.timedelta(days=1))


@dataclass(frozen=True, slots=True)
class WhatIf:
    """The seller's question: resolve these open violations today, and/or another daily rate."""

    resolve: frozenset[int] = frozenset()
    daily_orders: Fraction | None = None

    @property
    def asked(self) -> bool:
        return bool(self.resolve) or self.daily_orders is not None


@dataclass(frozen=True, slots=True)
class Outlook:
    """What moved the AHR in the explained days, the forecast, and the what-if's forecast."""

    changes: list[DayChange]
    forecast: Forecast
    what_if: Forecast | None
    question: WhatIf
    recent_daily_orders: Fraction
    resolve_on: dt.date
    open_violations: dict[int, ViolationFacts]
    violations: dict[int, ViolationFacts]

    @property
    def shown(self) -> Forecast:
        """The forecast the page draws: the what-if's when one was asked."""
        return self.what_if or self.forecast


def build_outlook(
    store_account: StoreAccount,
    state: HealthState,
    *,
    facts: AccountFacts,
    violations: Mapping[int, ViolationFacts],
    series: Series,
    question: WhatIf = WhatIf(),
    explained_days: int = EXPLAINED_DAYS,
) -> Outlook:
    """The outlook of a store account from its state, its violations and its series."""
    last_day = last_day_of(store_account, state)
    in_window = (
        state.orders_in_window
        if state.last_closed_day is not None
        else window_orders(series.orders, last_day)
    )
    start = Start(
        last_day=last_day,
        orders_in_window=in_window,
        window=rating_window(state),
        enrolled=state.enrolled,
        facts=facts,
    )
    rate = recent_daily_orders(series.orders, last_day=last_day, opened_on=store_account.opened_on)
    resolve_on = resolve_day(store_account, state)
    open_violations = {
        pk: facts for pk, facts in violations.items() if is_open_on(facts, resolve_on)
    }
    baseline = forecast(
        start, orders_by_day=series.orders, violations=violations.values(), daily_orders=rate
    )
    asked = None
    if question.asked:
        asked = what_if(
            start,
            orders_by_day=series.orders,
            violations=violations,
            resolve=question.resolve & open_violations.keys(),
            resolve_on=resolve_on,
            daily_orders=rate if question.daily_orders is None else question.daily_orders,
        )
    changes = explain_days(
        ratings=series.ratings,
        orders_by_day=series.orders,
        violations=violations,
        first_day=last_day - dt.timedelta(days=explained_days - 1),
        last_day=last_day,
    )
    return Outlook(
        changes=changes,
        forecast=baseline,
        what_if=asked,
        question=question,
        recent_daily_orders=rate,
        resolve_on=resolve_on,
        open_violations=open_violations,
        violations=dict(violations),
    )


def violations_since(now: dt.datetime) -> dt.datetime:
    """The oldest detection time the dashboard reads for its outlook: VIOLATION_LOOKBACK_DAYS
    before yesterday, with a day of slack for time zones. The page cache fingerprints the same
    rows."""
    return now - dt.timedelta(days=VIOLATION_LOOKBACK_DAYS + 2)


def violations_since_day(
    marketplace: Marketplace, last_day: dt.date, explained_days: int = EXPLAINED_DAYS
) -> dt.datetime:
    """The oldest detection that can matter to an outlook of `explained_days` days ending at
    `last_day`: one that can still count on the first of them."""
    first = last_day - dt.timedelta(days=explained_days + WINDOW_DAYS - 1)
    return dt.datetime.combine(first, dt.time.min, tzinfo=marketplace.zone)


def store_outlook(
    store_account: StoreAccount,
    *,
    has_valid_contact: bool,
    question: WhatIf = WhatIf(),
    explained_days: int = EXPLAINED_DAYS,
) -> Outlook:
    """The outlook of a store account, read on its own (the admin's store account page)."""
    state = HealthState.objects.filter(store_account=store_account).first() or HealthState(
        store_account=store_account
    )
    marketplace = store_account.marketplace
    last_day = last_day_of(store_account, state)
    rows = Violation.objects.affecting(store_account).filter(
        detected_at__gte=violations_since_day(marketplace, last_day, explained_days)
    )
    rating_days, order_days = series_days(explained_days)
    return build_outlook(
        store_account,
        state,
        facts=account_facts(store_account, state, has_valid_contact=has_valid_contact),
        violations=violation_facts(marketplace, rows.only(*OUTLOOK_VIOLATION_FIELDS)),
        series=load_series(
            store_account.pk,
            last_day,
            rating_days=rating_days,
            order_days=order_days,
        ),
        question=question,
        explained_days=explained_days,
    )
