"""The AHR rules (specification §2), checked against the numbers the spec states."""

from datetime import date, timedelta

import pytest

from health.rating import (
    Band,
    Severity,
    ViolationFacts,
    band,
    compute_ahr,
    is_active,
    is_at_risk,
    is_deactivation_level,
    is_repeat,
    roll_orders,
    violation_points,
    volume_bonus,
)

DAY = date(2025, 3, 1)
LISTING = "Listing policy violations"
SAFETY = "Product safety customer complaints"


def days(n: int) -> timedelta:
    return timedelta(days=n)


def violation(
    severity: Severity = Severity.LOW,
    *,
    detected_on: date = DAY,
    resolved_on: date | None = None,
    repeat: bool = False,
    category: str = LISTING,
) -> ViolationFacts:
    return ViolationFacts(
        category=category,
        severity=severity,
        detected_on=detected_on,
        resolved_on=resolved_on,
        repeat=repeat,
    )


def ahr(orders: int = 0, *violations: ViolationFacts, day: date = DAY) -> int:
    return compute_ahr(orders_in_window=orders, violations=violations, day=day)


def test_new_store_account_starts_at_200() -> None:
    assert ahr() == 200


def test_2599_orders_give_48_points() -> None:
    assert volume_bonus(2_599) == 48


def test_2600_orders_give_52_points() -> None:
    assert volume_bonus(2_600) == 52


def test_2600_orders_without_violations_is_the_least_reaching_250() -> None:
    assert ahr(2_599) == 248
    assert ahr(2_600) == 252


def test_negative_order_count_is_refused() -> None:
    with pytest.raises(ValueError):
        volume_bonus(-1)


@pytest.mark.parametrize(
    ("severity", "points"), [(Severity.LOW, 2), (Severity.MEDIUM, 4), (Severity.HIGH, 8)]
)
def test_severity_points(severity: Severity, points: int) -> None:
    assert violation_points(violation(severity)) == points
    assert ahr(0, violation(severity)) == 200 - points


@pytest.mark.parametrize(
    ("severity", "points"), [(Severity.LOW, 4), (Severity.MEDIUM, 8), (Severity.HIGH, 16)]
)
def test_repeat_violation_counts_double(severity: Severity, points: int) -> None:
    assert violation_points(violation(severity, repeat=True)) == points
    assert ahr(0, violation(severity, repeat=True)) == 200 - points


def test_points_of_all_active_violations_add_up() -> None:
    active = [violation(Severity.LOW), violation(Severity.HIGH), violation(Severity.MEDIUM)]
    assert ahr(2_600, *active) == 252 - 14


def test_critical_violation_has_no_points() -> None:
    with pytest.raises(ValueError):
        violation_points(violation(Severity.CRITICAL))


@pytest.mark.parametrize(
    ("days_before", "repeat"), [(0, False), (1, True), (179, True), (180, True), (181, False)]
)
def test_repeat_means_detected_on_one_of_the_180_local_days_before(
    days_before: int, repeat: bool
) -> None:
    # Rules §2.3: the days V-180..V-1; the same day is not before it, 181 days back is too far.
    assert is_repeat(LISTING, DAY, [(LISTING, DAY - days(days_before))]) is repeat


def test_two_on_the_same_day_are_not_repeats_of_each_other() -> None:
    assert not is_repeat(LISTING, DAY, [(LISTING, DAY), (LISTING, DAY)])


def test_an_earlier_one_makes_a_repeat_beside_a_same_day_one() -> None:
    assert is_repeat(LISTING, DAY, [(LISTING, DAY), (LISTING, DAY - days(180))])


def test_other_category_is_not_a_repeat() -> None:
    assert not is_repeat(LISTING, DAY + days(1), [(SAFETY, DAY)])


def test_first_violation_is_not_a_repeat() -> None:
    assert not is_repeat(LISTING, DAY, [])


def test_any_matching_earlier_violation_makes_a_repeat() -> None:
    earlier = [(LISTING, DAY - days(400)), (SAFETY, DAY - days(3)), (LISTING, DAY - days(100))]
    assert is_repeat(LISTING, DAY, earlier)


def test_active_critical_violation_sets_ahr_to_zero() -> None:
    assert ahr(1_000_000, violation(Severity.CRITICAL)) == 0


def test_critical_violation_stops_zeroing_once_resolved() -> None:
    critical = violation(Severity.CRITICAL, resolved_on=DAY + days(5))
    assert ahr(2_600, critical, day=DAY + days(4)) == 0
    assert ahr(2_600, critical, day=DAY + days(5)) == 252


def test_critical_violation_stops_zeroing_after_180_days() -> None:
    critical = violation(Severity.CRITICAL)
    assert ahr(2_600, critical, day=DAY + days(179)) == 0
    assert ahr(2_600, critical, day=DAY + days(180)) == 252


def test_violation_counts_from_its_detection_day() -> None:
    high = violation(Severity.HIGH)
    assert not is_active(high, DAY - days(1))
    assert is_active(high, DAY)
    assert ahr(0, high, day=DAY - days(1)) == 200
    assert ahr(0, high, day=DAY) == 192


def test_violation_stops_counting_on_its_180th_day() -> None:
    high = violation(Severity.HIGH)
    assert is_active(high, DAY + days(179))
    assert not is_active(high, DAY + days(180))
    assert ahr(0, high, day=DAY + days(179)) == 192
    assert ahr(0, high, day=DAY + days(180)) == 200


def test_violation_stops_counting_on_the_day_it_is_resolved() -> None:
    high = violation(Severity.HIGH, resolved_on=DAY + days(10))
    assert is_active(high, DAY + days(9))
    assert not is_active(high, DAY + days(10))
    assert ahr(0, high, day=DAY + days(9)) == 192
    assert ahr(0, high, day=DAY + days(10)) == 200


def test_violation_resolved_on_its_detection_day_never_counts() -> None:
    assert not is_active(violation(Severity.HIGH, resolved_on=DAY), DAY)


def test_ahr_is_clamped_at_zero() -> None:
    many = [violation(Severity.HIGH, repeat=True)] * 20
    assert ahr(0, *many) == 0


def test_ahr_is_clamped_at_1000() -> None:
    assert ahr(10_000_000) == 1000
    assert ahr(10_000_000, violation(Severity.HIGH)) == 1000


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, Band.UNHEALTHY),
        (99, Band.UNHEALTHY),
        (100, Band.AT_RISK),
        (199, Band.AT_RISK),
        (200, Band.HEALTHY),
        (1000, Band.HEALTHY),
    ],
)
def test_bands(value: int, expected: Band) -> None:
    assert band(value) is expected


@pytest.mark.parametrize(("value", "expected"), [(199, True), (200, False)])
def test_at_risk_below_200(value: int, expected: bool) -> None:
    assert is_at_risk(value) is expected


@pytest.mark.parametrize(("value", "expected"), [(99, True), (100, False)])
def test_deactivation_level_below_100(value: int, expected: bool) -> None:
    assert is_deactivation_level(value) is expected


def test_roll_orders_adds_the_new_day_and_drops_the_day_leaving() -> None:
    assert roll_orders(1_000, entering=30, leaving=12) == 1_018
    assert roll_orders(0, entering=0, leaving=0) == 0


def test_roll_orders_keeps_the_sum_of_the_last_180_days() -> None:
    daily = [(n * 37) % 101 for n in range(500)]
    total = 0
    for index, orders in enumerate(daily):
        leaving = daily[index - 180] if index >= 180 else 0
        total = roll_orders(total, entering=orders, leaving=leaving)
        assert total == sum(daily[max(0, index - 179) : index + 1])


def test_roll_orders_refuses_to_go_negative() -> None:
    with pytest.raises(ValueError):
        roll_orders(10, entering=0, leaving=11)


def test_roll_orders_refuses_negative_daily_orders() -> None:
    with pytest.raises(ValueError):
        roll_orders(10, entering=-1, leaving=0)
    with pytest.raises(ValueError):
        roll_orders(10, entering=5, leaving=-1)
