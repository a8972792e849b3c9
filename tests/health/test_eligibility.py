"""Eligibility, enrollment and removal (specification §3, §4 and the examples of §9)."""

from collections.abc import Iterable
from dataclasses import replace
from datetime import date, timedelta

import pytest

from health.eligibility import (
    AccountFacts,
    Criterion,
    DayDecision,
    RatingWindow,
    RemovalReason,
    decide_day,
    evaluate_eligibility,
    removal_reason,
    should_remind_about_contact,
)

TODAY = date(2025, 6, 30)
GOOD = 300
BELOW = 249  # the highest AHR that is still "below 250"


def days(n: int) -> timedelta:
    return timedelta(days=n)


def history(on_record: int = 180, *, below: Iterable[int] = ()) -> list[int]:
    """Daily AHRs, oldest first, ending today; `below` holds days-ago offsets (0 = today)."""
    below_days = set(below)
    return [BELOW if ago in below_days else GOOD for ago in range(on_record - 1, -1, -1)]


def window_of(ahrs: Iterable[int], *, last_day: date = TODAY) -> RatingWindow:
    """A window built the way the nightly job builds it: one close a day, ending at last_day."""
    ahrs = list(ahrs)
    window = RatingWindow()
    for offset, ahr in enumerate(ahrs):
        window = window.advance(last_day - days(len(ahrs) - 1 - offset), ahr)
    return window


def facts(**changes: object) -> AccountFacts:
    """A Professional store account with a valid contact, in a marketplace with AHA."""
    base = AccountFacts(
        professional=True,
        has_valid_contact=True,
        deactivated=False,
        aha_available_from=date(2022, 11, 16),
        barred=False,
    )
    return replace(base, **changes)


def decide(ahrs: Iterable[int], *, enrolled: bool, **changes: object) -> DayDecision:
    return decide_day(enrolled=enrolled, window=window_of(ahrs), facts=facts(**changes), day=TODAY)


# --- The worked examples of rules §9 ---


@pytest.mark.parametrize(
    ("ahrs", "enrolled", "enroll", "remove", "failing"),
    [
        pytest.param(history(), False, True, None, (), id="180 days all >= 250 enrolls"),
        pytest.param(
            history(below=range(3, 180, 18)), False, True, None, (), id="10 days below enrolls"
        ),
        pytest.param(
            history(below=range(3, 180, 17)),
            False,
            False,
            None,
            (Criterion.E4,),
            id="11 days below is not eligible (E4)",
        ),
        pytest.param(
            history(179), False, False, None, (Criterion.E3,), id="179 days on record (E3)"
        ),
        pytest.param(
            history(below=[1, 2, 3, 20, 21, 22, 50, 51, 52, 90, 91, 92]),
            True,
            False,
            None,
            None,
            id="12 scattered days below, enrolled, stays",
        ),
        pytest.param(history(below=range(10)), True, False, None, None, id="10 in a row stays"),
        pytest.param(
            history(below=range(11)),
            True,
            False,
            RemovalReason.R1,
            (Criterion.E4,),
            id="11 in a row removes (R1)",
        ),
    ],
)
def test_worked_examples(
    ahrs: list[int],
    enrolled: bool,
    enroll: bool,
    remove: RemovalReason | None,
    failing: tuple[Criterion, ...] | None,
) -> None:
    decision = decide(ahrs, enrolled=enrolled)
    assert decision.enroll is enroll
    assert decision.remove is remove
    if failing is None:
        assert decision.eligibility is None
    else:
        assert decision.eligibility is not None
        assert decision.eligibility.failing == failing


def test_179_days_on_record_qualifies_tomorrow_if_tomorrow_is_at_least_250() -> None:
    window = window_of(history(179))
    assert evaluate_eligibility(window, facts(), TODAY).first_qualifying_day == TODAY + days(1)
    tomorrow = TODAY + days(1)
    assert evaluate_eligibility(window.advance(tomorrow, 250), facts(), tomorrow).eligible
    # Without tomorrow's close on record the run of 180 days is not complete.
    assert not evaluate_eligibility(window, facts(), tomorrow).eligible


# --- E3 and E4 for a store account that is not enrolled ---


def test_ten_days_below_in_the_window_is_eligible() -> None:
    eligibility = evaluate_eligibility(window_of(history(below=range(10))), facts(), TODAY)
    assert eligibility.eligible
    assert eligibility.days_below == 10


def test_eleven_days_below_in_the_window_is_not_eligible() -> None:
    eligibility = evaluate_eligibility(window_of(history(below=range(11))), facts(), TODAY)
    assert not eligibility.eligible
    assert eligibility.failing == (Criterion.E4,)
    assert eligibility.days_below == 11


def test_days_below_before_the_window_do_not_count() -> None:
    ahrs = [BELOW] * 50 + history()
    assert evaluate_eligibility(window_of(ahrs), facts(), TODAY).eligible


def test_179_days_on_record_is_not_eligible_and_180_is() -> None:
    short = evaluate_eligibility(window_of(history(179)), facts(), TODAY)
    assert short.failing == (Criterion.E3,)
    assert short.days_on_record == 179
    full = evaluate_eligibility(window_of(history(180)), facts(), TODAY)
    assert full.eligible
    assert full.days_on_record == 180


def test_days_on_record_is_capped_at_the_window() -> None:
    assert window_of(history(400)).days_on_record == 180


def test_gap_in_records_restarts_days_on_record() -> None:
    window = window_of(history(200), last_day=TODAY - days(3))
    after_gap = window.advance(TODAY, GOOD)
    assert after_gap.days_on_record == 1
    assert after_gap.advance(TODAY + days(1), GOOD).days_on_record == 2
    assert evaluate_eligibility(after_gap, facts(), TODAY).failing == (Criterion.E3,)


def test_missing_days_break_a_run_of_days_below() -> None:
    window = window_of([BELOW] * 8, last_day=TODAY - days(2)).advance(TODAY, BELOW)
    assert window.consecutive_days_below == 1
    assert window.days_below == 9


def test_window_of_a_day_without_a_close_has_nothing_on_record_that_day() -> None:
    window = window_of(history(below=[0, 1]))
    later = window.at(TODAY + days(2))
    assert later.last_day == TODAY + days(2)
    assert later.days_on_record == 0
    assert later.days_below == 2
    assert later.consecutive_days_below == 0
    assert window.at(TODAY) == window


def test_evaluating_a_day_without_a_close_fails_e3() -> None:
    window = window_of(history(200), last_day=TODAY - days(1))
    assert evaluate_eligibility(window, facts(), TODAY).failing == (Criterion.E3,)


def test_window_refuses_a_day_already_recorded() -> None:
    window = window_of(history(3))
    with pytest.raises(ValueError):
        window.advance(TODAY, GOOD)
    with pytest.raises(ValueError):
        window.advance(TODAY - days(1), GOOD)
    with pytest.raises(ValueError):
        window.at(TODAY - days(1))


def test_mask_never_exceeds_180_bits() -> None:
    window = window_of([BELOW] * 400)
    assert window.below_mask == (1 << 180) - 1
    assert window.days_below == 180
    assert window.consecutive_days_below == 180
    shifted = window.advance(TODAY + days(100), GOOD)
    assert shifted.below_mask.bit_length() <= 180
    assert shifted.days_below == 80
    assert window.advance(TODAY + days(1000), BELOW).below_mask == 1
    assert window.at(TODAY + days(180)).below_mask == 0


def test_window_refuses_a_corrupt_stored_mask() -> None:
    with pytest.raises(ValueError):
        RatingWindow(last_day=TODAY, days_on_record=1, below_mask=1 << 180)
    with pytest.raises(ValueError):
        RatingWindow(last_day=TODAY, days_on_record=181)
    with pytest.raises(ValueError):
        RatingWindow(last_day=None, days_on_record=1)


# --- E5: the date AHA became available in the marketplace ---


@pytest.mark.parametrize("available_from", [date(2022, 11, 16), date(2024, 4, 24)])
def test_not_eligible_the_day_before_aha_is_available(available_from: date) -> None:
    day = available_from - days(1)
    window = window_of(history(), last_day=day)
    eligibility = evaluate_eligibility(window, facts(aha_available_from=available_from), day)
    assert eligibility.failing == (Criterion.E5,)
    assert eligibility.first_qualifying_day == available_from


@pytest.mark.parametrize("available_from", [date(2022, 11, 16), date(2024, 4, 24)])
def test_eligible_on_the_day_aha_becomes_available(available_from: date) -> None:
    window = window_of(history(), last_day=available_from)
    eligibility = evaluate_eligibility(
        window, facts(aha_available_from=available_from), available_from
    )
    assert eligibility.eligible


def test_deactivated_store_account_is_not_eligible() -> None:
    eligibility = evaluate_eligibility(window_of(history()), facts(deactivated=True), TODAY)
    assert eligibility.failing == (Criterion.E5,)
    assert eligibility.first_qualifying_day is None


# --- E1, E2 and waiting for an emergency contact ---


def test_waiting_for_contact_when_only_e2_fails() -> None:
    decision = decide(history(), enrolled=False, has_valid_contact=False)
    assert not decision.enroll
    assert decision.waiting_for_contact
    assert decision.eligibility is not None
    assert decision.eligibility.failing == (Criterion.E2,)
    assert decision.eligibility.first_qualifying_day == TODAY


def test_not_waiting_for_contact_when_another_criterion_fails_too() -> None:
    decision = decide(history(179), enrolled=False, has_valid_contact=False)
    assert not decision.waiting_for_contact
    assert decision.eligibility is not None
    assert decision.eligibility.failing == (Criterion.E2, Criterion.E3)


def test_individual_plan_is_not_eligible() -> None:
    eligibility = evaluate_eligibility(window_of(history()), facts(professional=False), TODAY)
    assert eligibility.failing == (Criterion.E1,)
    assert eligibility.first_qualifying_day is None


def test_every_failing_criterion_is_reported_in_order() -> None:
    everything_wrong = facts(
        professional=False,
        has_valid_contact=False,
        deactivated=True,
        aha_available_from=TODAY + days(1),
        barred=True,
    )
    eligibility = evaluate_eligibility(window_of(history(5, below=[0])), everything_wrong, TODAY)
    assert eligibility.failing == (
        Criterion.E1,
        Criterion.E2,
        Criterion.E3,
        Criterion.E5,
        Criterion.E6,
    )


# --- Staying enrolled and losing AHA (R1-R3) ---


def test_tenth_consecutive_day_below_keeps_enrollment() -> None:
    assert decide(history(below=range(10)), enrolled=True).remove is None


def test_eleventh_consecutive_day_below_removes() -> None:
    decision = decide(history(below=range(11)), enrolled=True)
    assert decision.remove is RemovalReason.R1
    assert not decision.enroll


def test_scattered_days_below_keep_an_enrolled_account_but_block_a_new_one() -> None:
    ahrs = history(below=[1, 2, 3, 20, 21, 22, 50, 51, 52, 90, 91, 92])
    assert decide(ahrs, enrolled=True) == DayDecision(
        enroll=False, remove=None, eligibility=None, waiting_for_contact=False
    )
    assert not decide(ahrs, enrolled=False).enroll


def test_enrolled_account_is_not_tested_against_days_on_record() -> None:
    assert decide(history(5), enrolled=True).remove is None


def test_plan_no_longer_professional_removes_with_r2() -> None:
    assert decide(history(), enrolled=True, professional=False).remove is RemovalReason.R2


def test_lost_emergency_contact_removes_with_r3() -> None:
    decision = decide(history(), enrolled=True, has_valid_contact=False)
    assert decision.remove is RemovalReason.R3
    assert not decision.waiting_for_contact


def test_removal_reasons_are_checked_r2_then_r3_then_r1() -> None:
    window = window_of(history(below=range(11)))
    no_plan_no_contact = facts(professional=False, has_valid_contact=False)
    assert removal_reason(window, no_plan_no_contact) is RemovalReason.R2
    assert removal_reason(window, facts(has_valid_contact=False)) is RemovalReason.R3
    assert removal_reason(window, facts()) is RemovalReason.R1


def test_reenrolls_by_itself_after_r1_once_eligible_again() -> None:
    ahrs = history(below=range(11))
    window = window_of(ahrs)
    removal = decide_day(enrolled=True, window=window, facts=facts(), day=TODAY)
    assert removal.remove is RemovalReason.R1
    assert removal.eligibility is not None
    # The oldest of the 11 days below (10 days ago) leaves the window 170 days from today.
    expected = TODAY + days(170)
    assert removal.eligibility.first_qualifying_day == expected
    day, enrolled = TODAY, False
    while not enrolled:
        day += days(1)
        window = window.advance(day, GOOD)
        enrolled = decide_day(enrolled=False, window=window, facts=facts(), day=day).enroll
    assert day == expected


def test_barred_account_does_not_reenroll_until_the_bar_is_lifted() -> None:
    window = window_of(history())
    barred = decide_day(enrolled=False, window=window, facts=facts(barred=True), day=TODAY)
    assert not barred.enroll
    assert barred.eligibility is not None
    assert barred.eligibility.failing == (Criterion.E6,)
    assert barred.eligibility.first_qualifying_day is None
    lifted = decide_day(enrolled=False, window=window, facts=facts(barred=False), day=TODAY)
    assert lifted.enroll


# --- The first day a store account can qualify ---


def test_first_qualifying_day_is_today_when_eligible_today() -> None:
    assert evaluate_eligibility(window_of(history()), facts(), TODAY).first_qualifying_day == TODAY


@pytest.mark.parametrize("k", [1, 2, 37, 170])
def test_first_qualifying_day_waits_for_the_oldest_extra_day_below_to_leave(k: int) -> None:
    oldest_ago = 180 - k
    below = [oldest_ago, *range(10)]
    eligibility = evaluate_eligibility(window_of(history(below=below)), facts(), TODAY)
    assert eligibility.failing == (Criterion.E4,)
    assert eligibility.first_qualifying_day == TODAY + days(k)


def test_first_qualifying_day_needs_every_extra_day_below_gone() -> None:
    below = [179, 150, 120, *range(10)]
    eligibility = evaluate_eligibility(window_of(history(below=below)), facts(), TODAY)
    assert eligibility.first_qualifying_day == TODAY + days(180 - 120)


def test_first_qualifying_day_waits_for_aha_to_become_available() -> None:
    available = TODAY + days(45)
    eligibility = evaluate_eligibility(
        window_of(history()), facts(aha_available_from=available), TODAY
    )
    assert eligibility.first_qualifying_day == available


def test_first_qualifying_day_waits_for_the_latest_condition() -> None:
    eligibility = evaluate_eligibility(
        window_of(history(100)), facts(aha_available_from=TODAY + days(30)), TODAY
    )
    assert eligibility.first_qualifying_day == TODAY + days(80)


def test_first_qualifying_day_of_a_new_store_account() -> None:
    eligibility = evaluate_eligibility(RatingWindow(), facts(), TODAY)
    assert eligibility.days_on_record == 0
    assert eligibility.first_qualifying_day == TODAY + days(180)


def test_progress_figures() -> None:
    eligibility = evaluate_eligibility(window_of(history(120, below=[4, 9])), facts(), TODAY)
    assert (eligibility.days_on_record, eligibility.days_required) == (120, 180)
    assert (eligibility.days_below, eligibility.days_below_allowed) == (2, 10)


# --- Reminders and labels ---


def test_contact_reminder_at_most_once_in_30_days() -> None:
    assert should_remind_about_contact(None, TODAY)
    assert not should_remind_about_contact(TODAY, TODAY)
    assert not should_remind_about_contact(TODAY - days(29), TODAY)
    assert should_remind_about_contact(TODAY - days(30), TODAY)


def test_every_criterion_and_reason_has_a_label() -> None:
    assert Criterion.E1.label == "Professional selling plan"
    assert all(criterion.label for criterion in Criterion)
    assert all(reason.label for reason in RemovalReason)
    assert "72 hours" in RemovalReason.R4.label


def test_only_r6_and_r7_bar_and_only_r4_r5_r7_deactivate() -> None:
    assert {reason for reason in RemovalReason if reason.bars} == {
        RemovalReason.R6,
        RemovalReason.R7,
    }
    assert {reason for reason in RemovalReason if reason.deactivates} == {
        RemovalReason.R4,
        RemovalReason.R5,
        RemovalReason.R7,
    }
