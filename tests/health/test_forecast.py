"""The pure explanation and forecast (health/forecast.py), example by example."""

import math
from datetime import date, timedelta
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from health.eligibility import (
    MAX_CONSECUTIVE_DAYS_BELOW,
    MAX_DAYS_BELOW,
    REQUIRED_DAYS_ON_RECORD,
    AccountFacts,
    RatingWindow,
    RemovalReason,
)
from health.forecast import (
    RECENT_DAYS,
    SEARCH_DAYS,
    Change,
    Never,
    Start,
    explain_day,
    explain_days,
    forecast,
    orders_on_day,
    recent_daily_orders,
    what_if,
)
from health.rating import (
    BONUS_POINTS_PER_STEP,
    ORDERS_PER_BONUS_STEP,
    REPEAT_MULTIPLIER,
    SEVERITY_POINTS,
    WINDOW_DAYS,
    Severity,
    ViolationFacts,
    compute_ahr,
)

DAY = date(2026, 6, 1)
ONE = timedelta(days=1)
# 2,600 orders in the window: AHR 252 with no violation.
ORDERS_252 = 13 * ORDERS_PER_BONUS_STEP
FACTS = AccountFacts(
    professional=True,
    has_valid_contact=True,
    deactivated=False,
    aha_available_from=date(2024, 4, 24),
    barred=False,
)


def medium(detected: date, *, resolved: date | None = None, repeat: bool = False):
    return ViolationFacts("listing", Severity.MEDIUM, detected, resolved, repeat)


def explain(violations=None, *, before=ORDERS_252, after=ORDERS_252, day=DAY, late=0):
    violations = violations or {}
    recorded_before = compute_ahr(
        orders_in_window=before, violations=violations.values(), day=day - ONE
    )
    recorded_after = compute_ahr(orders_in_window=after, violations=violations.values(), day=day)
    return explain_day(
        day=day,
        orders_before=before,
        orders_after=after,
        violations=violations,
        recorded_before=recorded_before,
        recorded_after=recorded_after + late,
    )


def test_orders_crossing_a_step_of_the_window_move_the_ahr_by_one_step_either_way():
    (up,) = explain(before=ORDERS_252 - 1, after=ORDERS_252)
    (down,) = explain(before=ORDERS_252, after=ORDERS_252 - 1)
    assert (up.change, up.points, up.orders) == (Change.VOLUME, 4, (ORDERS_252 - 1, ORDERS_252))
    assert (down.change, down.points) == (Change.VOLUME, -BONUS_POINTS_PER_STEP)


def test_a_violation_starting_counts_its_points_and_a_repeat_counts_double():
    (plain,) = explain({1: medium(DAY)})
    (repeat,) = explain({2: medium(DAY, repeat=True)})
    assert (plain.change, plain.points, plain.violation) == (Change.STARTS, -4, 1)
    assert repeat.points == -SEVERITY_POINTS[Severity.MEDIUM] * REPEAT_MULTIPLIER


def test_a_resolved_violation_gives_its_points_back_on_the_day_of_resolution():
    (item,) = explain({1: medium(DAY - 10 * ONE, resolved=DAY)})
    assert (item.change, item.points) == (Change.RESOLVED, 4)
    assert explain({1: medium(DAY - 10 * ONE, resolved=DAY + ONE)}) == ()


def test_a_violation_expires_on_its_180th_day():
    (item,) = explain({1: medium(DAY - WINDOW_DAYS * ONE)})
    assert (item.change, item.points) == (Change.EXPIRED, 4)
    assert explain({1: medium(DAY - (WINDOW_DAYS - 1) * ONE)}) == ()


def test_a_critical_violation_sets_the_ahr_to_zero_and_its_end_brings_it_back():
    critical = ViolationFacts("food_safety", Severity.CRITICAL, DAY, DAY + 5 * ONE)
    (starts,) = explain({7: critical})
    assert (starts.change, starts.points, starts.violation) == (Change.CRITICAL_STARTS, -252, 7)
    (ends,) = explain({7: critical}, day=DAY + 5 * ONE)
    assert (ends.change, ends.points, ends.resolved) == (Change.CRITICAL_ENDS, 252, True)
    # Other changes under a critical violation do not move the AHR: nothing to explain.
    assert explain({7: critical, 8: medium(DAY + ONE)}, day=DAY + ONE) == ()


def test_the_limits_take_their_share_of_a_change():
    many = {n: ViolationFacts("other", Severity.HIGH, DAY - ONE) for n in range(40)}
    items = explain({**many, 99: medium(DAY)})
    assert [item.change for item in items] == [Change.STARTS, Change.LIMIT]
    assert sum(item.points for item in items) == 0


def test_data_received_after_a_day_closed_is_the_rest_of_the_recorded_change():
    items = explain({1: medium(DAY)}, late=6)
    assert [(item.change, item.points) for item in items] == [
        (Change.STARTS, -4),
        (Change.LATE_DATA, 6),
    ]


def test_explain_days_lists_only_days_with_a_change_newest_first():
    first = DAY - 9 * ONE
    orders = {first - WINDOW_DAYS * ONE: ORDERS_252}  # leaves the window on `first`
    violations = {1: medium(DAY - 3 * ONE)}
    ratings, in_window = {}, ORDERS_252
    for n in range(-1, 10):
        on = first + n * ONE
        if n >= 0:
            in_window = 0
        ratings[on] = compute_ahr(
            orders_in_window=in_window, violations=violations.values(), day=on
        )
    changes = explain_days(
        ratings=ratings,
        orders_by_day=orders,
        violations=violations,
        first_day=first,
        last_day=DAY,
    )
    assert [change.day for change in changes] == [DAY - 3 * ONE, first]
    assert [item.change for item in changes[1].items] == [Change.VOLUME]
    assert changes[1].points == -52


def start(*, days_on_record=REQUIRED_DAYS_ON_RECORD, below_mask=0, enrolled=False, facts=FACTS):
    window = RatingWindow(last_day=DAY, days_on_record=days_on_record, below_mask=below_mask)
    return Start(
        last_day=DAY, orders_in_window=ORDERS_252, window=window, enrolled=enrolled, facts=facts
    )


# 2,600 orders spread over the window's days at the rate the forecast goes on at: the day
# leaving is as big as the day entering, so the window stays at 2,600 (AHR 252).
RATE_252 = Fraction(ORDERS_252, WINDOW_DAYS)
STEADY = {
    DAY - (WINDOW_DAYS - n) * ONE: orders_on_day(RATE_252, n) for n in range(1, WINDOW_DAYS + 1)
}


def test_recent_rate_is_the_mean_of_four_weeks_or_of_the_days_since_opening():
    orders = {DAY - n * ONE: 10 for n in range(40)}
    assert recent_daily_orders(orders, last_day=DAY, opened_on=DAY - 100 * ONE) == 10
    orders[DAY - (RECENT_DAYS - 1) * ONE] = 38
    assert recent_daily_orders(orders, last_day=DAY, opened_on=DAY - 100 * ONE) == Fraction(
        10 * RECENT_DAYS + 28, RECENT_DAYS
    )
    assert recent_daily_orders(orders, last_day=DAY, opened_on=DAY - ONE) == 10
    assert recent_daily_orders({}, last_day=DAY, opened_on=DAY + ONE) == 0


def test_a_fractional_rate_is_spread_in_whole_orders():
    rate = Fraction(7, 3)
    spread = [orders_on_day(rate, n) for n in range(1, 7)]
    assert spread == [2, 2, 3, 2, 2, 3]
    with pytest.raises(ValueError):
        orders_on_day(Fraction(-1), 1)


@given(
    rate=st.fractions(min_value=0, max_value=10_000, max_denominator=RECENT_DAYS),
    days=st.integers(min_value=1, max_value=400),
)
def test_the_first_n_days_hold_exactly_floor_of_n_times_the_rate(rate, days):
    assert sum(orders_on_day(rate, n) for n in range(1, days + 1)) == math.floor(days * rate)
    assert all(orders_on_day(rate, n) >= 0 for n in range(1, days + 1))


def test_steady_orders_keep_the_window_and_179_days_on_record_qualify_tomorrow():
    assert sum(STEADY.values()) == ORDERS_252
    result = forecast(
        start(days_on_record=REQUIRED_DAYS_ON_RECORD - 1),
        orders_by_day=STEADY,
        violations=(),
        daily_orders=RATE_252,
    )
    assert {day.ahr for day in result.days} == {252}
    assert result.qualifying_day == DAY + ONE
    assert result.first.enrolls and result.days[1].enrolled and not result.days[1].enrolls


def test_the_qualifying_day_waits_for_an_open_violation_and_moves_when_it_is_resolved():
    violation = medium(DAY - 100 * ONE)
    # Every day since its detection closed at 248, below the line.
    result = forecast(
        start(below_mask=(1 << 101) - 1),
        orders_by_day=STEADY,
        violations=[violation],
        daily_orders=RATE_252,
    )
    # Open until its 180th day, D+79: the days below reach to there, and E4 holds once all but
    # ten of them have left the window.
    assert [day.ahr for day in result.days[:81]] == [248] * 79 + [252] * 2
    assert result.qualifying_day == DAY + 249 * ONE
    resolved = what_if(
        result.start,
        orders_by_day=STEADY,
        violations={1: violation},
        resolve=[1],
        resolve_on=DAY + ONE,
        daily_orders=RATE_252,
    )
    assert resolved.first.ahr == 252
    assert resolved.qualifying_day == DAY + 170 * ONE
    # A key that is no open violation changes nothing.
    same = what_if(
        result.start,
        orders_by_day=STEADY,
        violations={1: violation},
        resolve=[2],
        resolve_on=DAY + ONE,
        daily_orders=RATE_252,
    )
    assert same.days == result.days


def test_another_order_rate_moves_the_forecast():
    faster = forecast(start(), orders_by_day=STEADY, violations=(), daily_orders=RATE_252 * 2)
    assert faster.days[WINDOW_DAYS - 1].ahr == 200 + 2 * 52


@pytest.mark.parametrize(
    ("facts", "never"),
    [
        (AccountFacts(False, True, False, date(2024, 4, 24), False), Never.PLAN),
        (AccountFacts(True, True, False, date(2024, 4, 24), True), Never.BARRED),
        (AccountFacts(True, True, True, date(2024, 4, 24), False), Never.DEACTIVATED),
    ],
)
def test_what_only_a_person_can_change_means_never(facts, never):
    result = forecast(
        start(facts=facts), orders_by_day=STEADY, violations=(), daily_orders=Fraction(15)
    )
    assert (result.qualifying_day, result.never) == (None, never)


def test_without_a_contact_it_says_when_it_would_qualify_with_one():
    facts = AccountFacts(True, False, False, date(2024, 4, 24), False)
    result = forecast(
        start(facts=facts), orders_by_day=STEADY, violations=(), daily_orders=Fraction(15)
    )
    assert result.never == Never.CONTACT
    assert result.qualifying_day is None
    assert result.qualifying_day_with_contact == DAY + ONE


def test_a_forecast_below_the_line_in_every_window_never_qualifies():
    # Every day of the window below, and no more orders: the window empties to an AHR of 200.
    result = forecast(
        start(below_mask=(1 << WINDOW_DAYS) - 1),
        orders_by_day=STEADY,
        violations=(),
        daily_orders=Fraction(0),
    )
    assert result.days[-1].ahr == 200
    assert len(result.days) == SEARCH_DAYS
    assert (result.qualifying_day, result.never) == (None, Never.BELOW_LINE)


def test_ten_days_below_in_the_window_still_qualify_eleven_wait():
    ten = forecast(
        start(below_mask=(1 << MAX_DAYS_BELOW) - 1),
        orders_by_day=STEADY,
        violations=(),
        daily_orders=RATE_252,
    )
    eleven = forecast(
        start(below_mask=(1 << MAX_DAYS_BELOW + 1) - 1),
        orders_by_day=STEADY,
        violations=(),
        daily_orders=RATE_252,
    )
    assert ten.qualifying_day == DAY + ONE
    # The oldest of the eleven, day D-10, leaves the window on day D+170.
    assert eleven.qualifying_day == DAY + (WINDOW_DAYS - MAX_DAYS_BELOW) * ONE


def test_an_enrolled_store_below_the_line_learns_its_r1_day():
    below = 4
    result = forecast(
        start(enrolled=True, below_mask=(1 << below) - 1),
        orders_by_day=STEADY,
        violations=[medium(DAY - 3 * ONE)],
        daily_orders=RATE_252,
    )
    assert result.consecutive_below_now == below
    r1 = DAY + (MAX_CONSECUTIVE_DAYS_BELOW + 1 - below) * ONE
    assert result.r1_day_if_it_goes_on == r1
    assert result.removal.day == r1 and result.removal.removes == RemovalReason.R1
    assert result.qualifying_day is None and result.never is None
