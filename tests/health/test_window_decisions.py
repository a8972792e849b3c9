"""A day's AHRs and decisions are worked out once per distinct case and shared (WindowDecisions):
every store account still gets exactly what the pure rules give it alone, whatever came before
it."""

from __future__ import annotations

import datetime as dt
from itertools import product

import pytest

from health.eligibility import REQUIRED_DAYS_ON_RECORD, AccountFacts, decide_day
from health.models import HealthState
from health.rating import (
    AHA_LINE,
    WINDOW_DAYS,
    Severity,
    ViolationFacts,
    compute_ahr,
    is_below_aha_line,
)
from health.services.day_close import WindowDecisions
from health.state import mask_to_bytes, rating_window

DAY = dt.date(2026, 6, 15)
# Few values each, at the rules' edges.
AHRS = [0, AHA_LINE - 1, AHA_LINE, AHA_LINE + 1, 1000]
RECORDS = [1, 2, REQUIRED_DAYS_ON_RECORD - 1, REQUIRED_DAYS_ON_RECORD]
MASKS = [0, 1, 0b10, (1 << 10) - 1, (1 << 11) - 1, 1 << (WINDOW_DAYS - 1), (1 << 11) - 1 << 100]
LAST_DAYS = [DAY - dt.timedelta(days=1), DAY - dt.timedelta(days=3)]
BOTH = [False, True]


def store_accounts() -> list[tuple[HealthState, int, AccountFacts]]:
    """Every combination of the values above: for any input the shared case left out, two
    combinations differing in it alone would share a decision that one of them must not get."""
    windows = [{}] + [
        {"last_closed_day": last, "days_on_record": records, "below_mask": mask_to_bytes(mask)}
        for last, records, mask in product(LAST_DAYS, RECORDS, MASKS)
    ]
    facts = [
        AccountFacts(
            professional=professional,
            has_valid_contact=contact,
            deactivated=deactivated,
            aha_available_from=available,
            barred=barred,
        )
        for professional, contact, deactivated, available, barred in product(
            BOTH, BOTH, BOTH, [DAY, DAY + dt.timedelta(days=1)], BOTH
        )
    ]
    return [
        (HealthState(**window, enrolled=enrolled), ahr, account_facts)
        for window, enrolled, ahr, account_facts in product(windows, BOTH, AHRS, facts)
        if window or not enrolled
    ]


def in_order(order: str) -> list[tuple[HealthState, int, AccountFacts]]:
    accounts = store_accounts()
    if order == "reversed":
        accounts.reverse()
    return accounts


def what_the_rules_give(state: HealthState, ahr: int, facts: AccountFacts) -> tuple:
    """The days on record, stored mask and decision of the pure rules for one store account."""
    window = rating_window(state).advance(DAY, ahr)
    return (
        window.days_on_record,
        mask_to_bytes(window.below_mask),
        decide_day(enrolled=state.enrolled, window=window, facts=facts, day=DAY),
    )


@pytest.mark.parametrize("order", ["as listed", "reversed"])
def test_a_shared_decision_is_the_one_the_rules_give_each_store_account(order: str) -> None:
    decisions = WindowDecisions(DAY)

    for state, ahr, facts in in_order(order):
        assert decisions.decide(state, ahr, facts) == what_the_rules_give(state, ahr, facts)


@pytest.mark.parametrize("order", ["as listed", "reversed"])
def test_a_step_from_stored_values_is_the_decision_the_rules_give(order: str) -> None:
    """The nightly close's form: the facts named by a key of plain values, asked for only when a
    case is new."""
    decisions = WindowDecisions(DAY)
    built: list[tuple] = []
    cases = set()

    def facts_of(key: tuple) -> AccountFacts:
        built.append(key)
        return key[0]

    for state, ahr, facts in in_order(order):
        stored = (state.last_closed_day, state.days_on_record, state.below_mask, state.enrolled)
        assert decisions.step(ahr, *stored, (facts,), facts_of) == what_the_rules_give(
            state, ahr, facts
        )
        cases.add((is_below_aha_line(ahr), *stored, facts))
    assert len(built) == len(cases)


def test_store_accounts_in_one_case_share_the_decision_but_not_their_ahr() -> None:
    decisions = WindowDecisions(DAY)
    facts = AccountFacts(
        professional=True,
        has_valid_contact=True,
        deactivated=False,
        aha_available_from=DAY,
        barred=False,
    )
    window = {"last_closed_day": LAST_DAYS[0], "days_on_record": 5, "below_mask": b"\0" * 23}

    low = decisions.decide(HealthState(**window), AHA_LINE - 1, facts)
    high = decisions.decide(HealthState(**window), AHA_LINE, facts)
    higher = decisions.decide(HealthState(**window), 1000, facts)

    assert low[1] != high[1]  # the day below the line is recorded for the first only
    assert higher is high  # the same case: worked out once


# Order counts at the bonus steps and the cap of the AHR, and violations that count or not.
ORDER_COUNTS = [0, 1, 199, 200, 201, 2_599, 2_600, 39_999, 40_000, 40_200, 10**6]
VIOLATIONS = [
    (),
    [ViolationFacts("listing", Severity.LOW, DAY - dt.timedelta(days=3))],
    [ViolationFacts("listing", Severity.HIGH, DAY, repeat=True)],
    [ViolationFacts("safety", Severity.CRITICAL, DAY - dt.timedelta(days=1))],
    # Resolved today and expired: listed, but not active on the day.
    [ViolationFacts("listing", Severity.HIGH, DAY - dt.timedelta(days=9), resolved_on=DAY)],
    [ViolationFacts("listing", Severity.HIGH, DAY - dt.timedelta(days=WINDOW_DAYS))],
]


@pytest.mark.parametrize("order", ["as listed", "reversed"])
def test_a_shared_ahr_is_the_one_the_rules_give_each_store_account(order: str) -> None:
    cases = list(product(ORDER_COUNTS, VIOLATIONS))
    if order == "reversed":
        cases.reverse()
    decisions = WindowDecisions(DAY)

    for orders, violations in cases:
        expected = compute_ahr(orders_in_window=orders, violations=violations, day=DAY)
        assert decisions.ahr(orders, violations) == expected
