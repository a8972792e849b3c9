"""Property: closing days one by one with the O(1) state gives exactly the AHRs and enrollment
events of a slow reference that recomputes everything from the full history every day."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import EmergencyContact, SellingPlan, StoreAccount
from accounts.services import set_emergency_contact
from health.eligibility import (
    REQUIRED_DAYS_ON_RECORD,
    AccountFacts,
    RatingWindow,
    decide_day,
)
from health.models import DailyOrders, DailyRating, EnrollmentEvent, Violation, ViolationCategory
from health.rating import AHA_LINE, WINDOW_DAYS, Severity, ViolationFacts, compute_ahr
from tests.health.test_day_close import PHONE, close, day, local_noon, pro_account

pytestmark = pytest.mark.django_db

# Long enough to enroll (180 days on record) and then to lose and regain AHA.
MAX_DAYS = WINDOW_DAYS + 30
CATEGORIES = [ViolationCategory.LISTING, ViolationCategory.OTHER, ViolationCategory.REVIEWS]
AVAILABLE_FROM = dt.date(2024, 4, 24)


@dataclass(frozen=True)
class History:
    days: int
    orders: dict[int, int]
    violations: list[tuple[int, int | None, Severity, str, bool]]
    plan_toggles: frozenset[int]
    contact_toggles: frozenset[int]


violations = st.tuples(
    st.integers(0, MAX_DAYS - 1),
    st.one_of(st.none(), st.integers(1, 40)),
    st.sampled_from(list(Severity)),
    st.sampled_from(CATEGORIES),
    st.booleans(),
)


@st.composite
def histories(draw: st.DrawFn) -> History:
    days = draw(st.integers(1, MAX_DAYS))
    # A big first day lets the AHR reach 250 early, so that enrollment can happen at all.
    orders = {0: draw(st.integers(0, 4000))}
    orders |= draw(st.dictionaries(st.integers(1, days), st.integers(0, 60), max_size=days))
    return History(
        days=days,
        orders=orders,
        violations=draw(st.lists(violations, max_size=8)),
        plan_toggles=frozenset(draw(st.sets(st.integers(1, days), max_size=2))),
        contact_toggles=frozenset(draw(st.sets(st.integers(1, days), max_size=2))),
    )


def _facts(history: History) -> list[ViolationFacts]:
    return [
        ViolationFacts(
            category=category,
            severity=severity,
            detected_on=day(first),
            resolved_on=day(first + lasting) if lasting else None,
            repeat=repeat,
        )
        for first, lasting, severity, category, repeat in history.violations
    ]


def _window(ahrs: dict[int, int], today: int) -> RatingWindow:
    """The rating window rebuilt from every recorded AHR."""
    run = 0
    while today - run in ahrs and run < REQUIRED_DAYS_ON_RECORD:
        run += 1
    mask = sum(
        1 << age
        for age in range(WINDOW_DAYS)
        if today - age in ahrs and ahrs[today - age] < AHA_LINE
    )
    return RatingWindow(last_day=day(today), days_on_record=run, below_mask=mask)


def reference(history: History) -> tuple[list[int], list[tuple[str, str, dt.date]]]:
    """The slow way: everything recomputed from the full history for every day."""
    facts = _facts(history)
    ahrs: dict[int, int] = {}
    events: list[tuple[str, str, dt.date]] = []
    professional, contact, enrolled = True, True, False
    for n in range(history.days):
        professional ^= n in history.plan_toggles
        contact ^= n in history.contact_toggles
        in_window = sum(history.orders.get(k, 0) for k in range(n - WINDOW_DAYS + 1, n + 1))
        ahrs[n] = compute_ahr(orders_in_window=in_window, violations=facts, day=day(n))
        account = AccountFacts(
            professional=professional,
            has_valid_contact=contact,
            deactivated=False,
            aha_available_from=AVAILABLE_FROM,
            barred=False,
        )
        decision = decide_day(enrolled=enrolled, window=_window(ahrs, n), facts=account, day=day(n))
        if decision.enroll:
            enrolled = True
            events.append(("enrolled", "", day(n)))
        elif decision.remove is not None:
            enrolled = False
            events.append(("removed", decision.remove.value, day(n)))
    return [ahrs[n] for n in range(history.days)], events


def _store(history: History) -> StoreAccount:
    account = pro_account()
    DailyOrders.objects.bulk_create(
        DailyOrders(store_account=account, day=day(n), orders=orders)
        for n, orders in history.orders.items()
        if orders
    )
    for first, lasting, severity, category, repeat in history.violations:
        Violation.objects.create(
            store_account=account,
            category=category,
            severity=severity,
            repeat=repeat,
            detected_at=local_noon(account, day(first)),
            resolved_at=local_noon(account, day(first + lasting)) if lasting else None,
        )
    return account


def _toggle(account: StoreAccount, n: int, history: History) -> None:
    """Plan and contact changes made during day n, before it closes."""
    if n in history.plan_toggles:
        professional = account.plan == SellingPlan.PROFESSIONAL
        account.plan = SellingPlan.INDIVIDUAL if professional else SellingPlan.PROFESSIONAL
        account.save(update_fields=["plan"])
    if n in history.contact_toggles:
        contact = EmergencyContact.objects.filter(seller=account.seller)
        if contact.exists():
            contact.delete()
        else:
            set_emergency_contact(seller=account.seller, phone=PHONE, by=None, region="PL")


def incremental(history: History) -> tuple[list[int], list[tuple[str, str, dt.date]]]:
    """The fast way: close_day_chunk day by day on the database."""
    account = _store(history)
    for n in range(history.days):
        _toggle(account, n, history)
        close(account, day(n))
    ahrs = list(
        DailyRating.objects.filter(store_account=account)
        .order_by("day")
        .values_list("ahr", flat=True)
    )
    events = list(
        EnrollmentEvent.objects.filter(store_account=account)
        .order_by("day", "id")
        .values_list("kind", "reason", "day")
    )
    return ahrs, events


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(history=histories())
def test_day_by_day_state_matches_recomputing_from_full_history(history: History) -> None:
    with transaction.atomic():
        fast = incremental(history)
        transaction.set_rollback(True)
    assert fast == reference(history)
