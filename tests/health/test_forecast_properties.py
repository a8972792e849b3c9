"""Properties of the explanation, the forecast and the what-if against the real day close.

Histories are closed day by day through close_day_chunk, as the nightly job closes them; the
outlook is then read from the stored state as the dashboard and the admin read it, and checked
against what closing the following days through the same close records."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, assume, event, example, given, settings
from hypothesis import strategies as st

from accounts.models import Marketplace, StoreAccount
from health.eligibility import MAX_CONSECUTIVE_DAYS_BELOW, RemovalReason
from health.forecast import Change, Forecast
from health.models import DailyOrders, DailyRating, EnrollmentEvent, Violation, ViolationCategory
from health.outlook import WhatIf, store_outlook
from health.rating import MAX_AHR, MIN_AHR, WINDOW_DAYS, Severity
from health.services.day_close import close_day_chunk
from tests.builders import PHONE, make_seller, make_store_account

pytestmark = pytest.mark.django_db

MARKETPLACE = "PL"
MAX_PAST = WINDOW_DAYS + 30
CATEGORIES = [ViolationCategory.LISTING, ViolationCategory.OTHER]
# 15 orders a day keep 2,700 in the window: +52, an AHR of 252; a medium violation makes 248.
STEADY_DAILY = 15
PROPERTY = settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@dataclass(frozen=True)
class History:
    """`past` closed days ending yesterday: day n is `past - n` days before today."""

    past: int
    orders: dict[int, int]
    # (detected on day, resolved that many days later or None, severity, category, repeat)
    violations: list[tuple[int, int | None, Severity, str, bool]]
    future: int
    # Days the store account had been open, with orders, before its first closed day (day 0).
    opened_before: int = 0


@st.composite
def histories(draw: st.DrawFn) -> History:
    past = draw(st.integers(1, MAX_PAST))
    orders = {0: draw(st.integers(0, 3000))}
    orders |= draw(st.dictionaries(st.integers(1, past - 1 or 1), st.integers(0, 40), max_size=40))
    violations = draw(
        st.lists(
            st.tuples(
                st.integers(0, past - 1),
                st.one_of(st.none(), st.integers(1, 60)),
                st.sampled_from(list(Severity)),
                st.sampled_from(CATEGORIES),
                st.booleans(),
            ),
            max_size=6,
        )
    )
    return History(past, orders, violations, future=draw(st.integers(1, 45)))


def today() -> dt.date:
    return Marketplace.objects.get(code=MARKETPLACE).local_date()


def day(history_past: int, n: int) -> dt.date:
    """Day n of a history of `history_past` closed days (day `history_past` is today)."""
    return today() - dt.timedelta(days=history_past - n)


def local_noon(on: dt.date) -> dt.datetime:
    zone = Marketplace.objects.get(code=MARKETPLACE).zone
    return dt.datetime.combine(on, dt.time(12), tzinfo=zone)


def close(account: StoreAccount, on: dt.date) -> None:
    close_day_chunk(marketplace_code=MARKETPLACE, day=on, first_id=account.pk, last_id=account.pk)


def closed_history(history: History) -> StoreAccount:
    """The store account of `history`, with its past days closed through the real close."""
    first = day(history.past, -history.opened_before)
    seller = make_seller(phone=PHONE)
    account = make_store_account(seller=seller, marketplace=MARKETPLACE, opened_on=first)
    DailyOrders.objects.bulk_create(
        DailyOrders(store_account=account, day=day(history.past, n), orders=orders)
        for n, orders in history.orders.items()
        if orders and n < history.past
    )
    for detected, lasting, severity, category, repeat in history.violations:
        resolved = day(history.past, detected + lasting) if lasting else None
        Violation.objects.create(
            store_account=account,
            category=category,
            severity=severity,
            repeat=repeat,
            detected_at=local_noon(day(history.past, detected)),
            # A resolution still ahead is no fact yet: the violation is open today.
            resolved_at=local_noon(resolved) if resolved and resolved < today() else None,
        )
    for n in range(history.past):
        close(account, day(history.past, n))
    return account


def recorded(account: StoreAccount) -> dict[dt.date, int]:
    return dict(DailyRating.objects.filter(store_account=account).values_list("day", "ahr"))


def events(account: StoreAccount, after: dt.date) -> list[tuple[str, str, dt.date]]:
    return list(
        EnrollmentEvent.objects.filter(store_account=account, day__gt=after)
        .order_by("day", "id")
        .values_list("kind", "reason", "day")
    )


def close_as_forecast(account: StoreAccount, predicted: Forecast, days: int) -> None:
    """Close the next `days` days with the orders the forecast assumed, nothing else changed."""
    for forecast_day in predicted.days[:days]:
        if forecast_day.orders:
            DailyOrders.objects.create(
                store_account=account, day=forecast_day.day, orders=forecast_day.orders
            )
        close(account, forecast_day.day)


def assert_forecast_recorded(account: StoreAccount, predicted: Forecast, days: int) -> None:
    """Day by day, the AHRs and enrollment events the forecast gave are those recorded."""
    ahrs = recorded(account)
    assert [(d.day, d.ahr) for d in predicted.days[:days]] == [
        (d.day, ahrs[d.day]) for d in predicted.days[:days]
    ]
    foreseen = []
    for d in predicted.days[:days]:
        if d.enrolls:
            foreseen.append(("enrolled", "", d.day))
        if d.removes:
            foreseen.append(("removed", d.removes.value, d.day))
    assert events(account, predicted.start.last_day) == foreseen


def in_rollback(check) -> None:
    with transaction.atomic():
        check()
        transaction.set_rollback(True)


# ---------------------------------------------------------------------------------------------
# Why it moved
# ---------------------------------------------------------------------------------------------


@PROPERTY
@given(history=histories())
@example(History(60, {0: 2600, 20: 1}, [(5, None, Severity.CRITICAL, "listing", False)], future=1))
def test_the_items_of_each_day_add_up_to_the_recorded_change(history: History) -> None:
    def check() -> None:
        account = closed_history(history)
        outlook = store_outlook(account, has_valid_contact=True, explained_days=history.past)
        ahrs = recorded(account)
        changed = {
            on
            for on, ahr in ahrs.items()
            if on - dt.timedelta(days=1) in ahrs and ahrs[on - dt.timedelta(days=1)] != ahr
        }
        # Every day with a change is listed, newest first, and only those.
        assert [change.day for change in outlook.changes] == sorted(changed, reverse=True)
        for change in outlook.changes:
            before = ahrs[change.day - dt.timedelta(days=1)]
            assert (change.before, change.after) == (before, ahrs[change.day])
            assert sum(item.points for item in change.items) == change.after - before
            kinds = {item.change for item in change.items}
            # Nothing arrived late: the day's own rules explain all of it.
            assert Change.LATE_DATA not in kinds
            if Change.LIMIT in kinds:
                assert {before, change.after} & {MIN_AHR, MAX_AHR}
            for kind in sorted(kinds):
                event(kind)

    in_rollback(check)


# ---------------------------------------------------------------------------------------------
# The forecast and the what-if against closing the days
# ---------------------------------------------------------------------------------------------


@PROPERTY
@given(history=histories())
def test_the_forecast_is_what_closing_those_days_records(history: History) -> None:
    def check() -> None:
        account = closed_history(history)
        predicted = store_outlook(account, has_valid_contact=True).forecast
        assert predicted.first.day == today()
        close_as_forecast(account, predicted, history.future)
        assert_forecast_recorded(account, predicted, history.future)

    in_rollback(check)


@PROPERTY
@given(history=histories(), pick=st.integers(0, 10))
def test_a_what_if_resolving_a_violation_is_what_closing_after_resolving_it_records(
    history: History, pick: int
) -> None:
    def check() -> None:
        account = closed_history(history)
        outlook = store_outlook(account, has_valid_contact=True)
        open_ids = sorted(outlook.open_violations)
        assume(open_ids)
        chosen = frozenset({open_ids[pick % len(open_ids)]})
        asked = store_outlook(
            account, has_valid_contact=True, question=WhatIf(resolve=chosen)
        ).what_if
        assert asked is not None
        Violation.objects.filter(pk__in=chosen).update(resolved_at=timezone.now())
        close_as_forecast(account, asked, history.future)
        assert_forecast_recorded(account, asked, history.future)

    in_rollback(check)


def steady_account(past: int, violations: list[tuple[int, str]]) -> StoreAccount:
    """15 orders every day, from 180 days before the first close on, and open medium
    violations on the given days."""
    history = History(
        past,
        dict.fromkeys(range(-WINDOW_DAYS, past), STEADY_DAILY),
        [(n, None, Severity.MEDIUM, category, False) for n, category in violations],
        future=0,
        opened_before=WINDOW_DAYS,
    )
    return closed_history(history)


def test_the_qualifying_day_forecast_is_the_day_the_close_enrolls():
    # 170 good days on record: the forecast says day 179, the 180th on record.
    account = steady_account(170, [])
    predicted = store_outlook(account, has_valid_contact=True).forecast
    assert predicted.qualifying_day == day(170, WINDOW_DAYS - 1)
    days = (predicted.qualifying_day - predicted.start.last_day).days
    close_as_forecast(account, predicted, days)
    assert_forecast_recorded(account, predicted, days)
    assert events(account, predicted.start.last_day)[-1] == (
        "enrolled",
        "",
        predicted.qualifying_day,
    )


def test_resolving_in_the_what_if_moves_the_qualifying_day_as_closing_does():
    # Below the line since day 150 (an open medium violation): 30 days below in the window.
    account = steady_account(180, [(150, ViolationCategory.LISTING)])
    outlook = store_outlook(account, has_valid_contact=True)
    (violation_id,) = outlook.open_violations
    asked = store_outlook(
        account, has_valid_contact=True, question=WhatIf(resolve=frozenset({violation_id}))
    ).what_if
    assert outlook.forecast.qualifying_day is not None
    assert asked.qualifying_day < outlook.forecast.qualifying_day
    # Ten of the days below may stay: the 20 oldest must leave the window first.
    assert asked.qualifying_day == day(180, 150 + 20 + WINDOW_DAYS - 1)
    Violation.objects.filter(pk=violation_id).update(resolved_at=timezone.now())
    days = (asked.qualifying_day - asked.start.last_day).days
    close_as_forecast(account, asked, days)
    assert_forecast_recorded(account, asked, days)
    assert events(account, asked.start.last_day)[-1][::2] == ("enrolled", asked.qualifying_day)


def test_the_r1_day_forecast_for_an_enrolled_store_is_the_day_the_close_removes_it():
    # Enrolled at the close of day 179; an open medium violation since day 190.
    account = steady_account(194, [(190, ViolationCategory.LISTING)])
    outlook = store_outlook(account, has_valid_contact=True)
    predicted = outlook.forecast
    assert predicted.start.enrolled
    assert predicted.consecutive_below_now == 4
    r1 = day(194, 190 + MAX_CONSECUTIVE_DAYS_BELOW)
    assert predicted.r1_day_if_it_goes_on == r1
    assert (predicted.removal.day, predicted.removal.removes) == (r1, RemovalReason.R1)
    days = (r1 - predicted.start.last_day).days + 3
    close_as_forecast(account, predicted, days)
    assert_forecast_recorded(account, predicted, days)
