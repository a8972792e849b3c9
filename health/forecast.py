"""Why the AHR moved, and where it is going: pure functions on top of the rules.

Nothing here touches Django or the database, and no threshold lives here: every number of the
rules comes from health/rating.py and health/eligibility.py, and every AHR, window step and
enrollment decision is worked out by their functions, the same ones the nightly close calls.

- explain_day / explain_days: the change of a closed day's AHR from the day before, itemised
  (a volume step, a violation starting to count or ending, a critical violation setting the AHR
  to 0 or ending, the 0..1000 limits, and data received after the day closed).
- forecast: the AHR of each of the coming days if orders go on at a given daily rate and every
  open violation stays open until it expires, and what that means for AHA: the first day the
  store account would qualify (or why it never would), or when R1 would remove it.
- what_if: the same forecast after resolving chosen open violations on a given day and/or at
  another daily order rate.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta
from enum import StrEnum
from fractions import Fraction

from health.eligibility import (
    MAX_CONSECUTIVE_DAYS_BELOW,
    AccountFacts,
    RatingWindow,
    RemovalReason,
    decide_day,
)
from health.rating import (
    WINDOW_DAYS,
    Severity,
    ViolationFacts,
    compute_ahr,
    is_active,
    roll_orders,
    violation_points,
    volume_bonus,
)

# "What moved your AHR" covers the closed days of the last month.
EXPLAINED_DAYS = 30
# "Recent" daily orders: the mean of the last four weeks (whole weeks, so that weekly patterns
# do not tilt it), or of the days since the store account opened when that is shorter.
RECENT_DAYS = 28
# The forecast shown: the next 180 days, the life of every violation open today.
FORECAST_DAYS = WINDOW_DAYS
# How far the qualifying day is looked for. After WINDOW_DAYS days every open violation has
# expired and the order window holds forecast days alone, so the AHR no longer changes; after
# another WINDOW_DAYS the eligibility window holds only such days. A store account that has not
# qualified by then never will under the forecast's assumptions.
SEARCH_DAYS = 2 * WINDOW_DAYS

ViolationKey = Hashable


class Change(StrEnum):
    """What moved an AHR from one closed day to the next."""

    VOLUME = "volume"  # orders entering or leaving the 180-day window crossed a 200-order step
    STARTS = "starts"  # a violation started to count (double if it is a repeat)
    RESOLVED = "resolved"  # a violation was resolved: its points come back
    EXPIRED = "expired"  # a violation reached the end of its 180 days
    CRITICAL_STARTS = "critical_starts"  # a critical violation set the AHR to 0
    CRITICAL_ENDS = "critical_ends"  # no critical violation counts any more
    LIMIT = "limit"  # the AHR stays within 0..1000
    LATE_DATA = "late_data"  # orders or violations received or corrected after a day closed


@dataclass(frozen=True, slots=True)
class Item:
    """One part of a day's change: what happened and how many points it moved."""

    change: Change
    points: int
    # The caller's key of the violation it is about, and its facts; None for other changes.
    violation: ViolationKey | None = None
    facts: ViolationFacts | None = None
    # Orders in the window the day before and on the day (a volume step).
    orders: tuple[int, int] | None = None
    # A critical violation that ended: whether it was resolved (else it expired).
    resolved: bool = False


@dataclass(frozen=True, slots=True)
class DayChange:
    """A closed day whose AHR differs from the day before, with the items that add up to it."""

    day: date
    before: int
    after: int
    items: tuple[Item, ...]

    @property
    def points(self) -> int:
        return self.after - self.before


def explain_day(
    *,
    day: date,
    orders_before: int,
    orders_after: int,
    violations: Mapping[ViolationKey, ViolationFacts],
    recorded_before: int,
    recorded_after: int,
) -> tuple[Item, ...]:
    """The items of the change from the AHR recorded for the day before `day` to the one of
    `day`; their points add up to recorded_after - recorded_before."""
    previous = day - timedelta(days=1)
    before = compute_ahr(
        orders_in_window=orders_before, violations=violations.values(), day=previous
    )
    after = compute_ahr(orders_in_window=orders_after, violations=violations.values(), day=day)
    critical_before = _active_critical(violations, previous)
    critical_after = _active_critical(violations, day)
    if critical_after and not critical_before:
        items = _critical_items(
            Change.CRITICAL_STARTS, critical_after, violations, day, after - before
        )
    elif critical_before and not critical_after:
        items = _critical_items(
            Change.CRITICAL_ENDS, critical_before, violations, day, after - before
        )
    elif critical_before:
        items = []  # held at 0 on both days, whatever else changed underneath
    else:
        items = _scored_items(day, orders_before, orders_after, violations)
        moved = sum(item.points for item in items)
        if moved != after - before:
            # The rules clamp to 0..1000: the part of the change the limits took away.
            items.append(Item(Change.LIMIT, after - before - moved))
    if late := (recorded_after - recorded_before) - (after - before):
        # The day's record was made with the data known when it closed; what arrived or was
        # corrected since (rules §10) is the rest of the recorded change.
        items.append(Item(Change.LATE_DATA, late))
    return tuple(items)


def _active_critical(violations: Mapping[ViolationKey, ViolationFacts], day: date) -> list:
    return [
        key
        for key, facts in violations.items()
        if facts.severity == Severity.CRITICAL and is_active(facts, day)
    ]


def _critical_items(
    change: Change,
    keys: list,
    violations: Mapping[ViolationKey, ViolationFacts],
    day: date,
    points: int,
) -> list[Item]:
    """One item per critical violation starting (or ending); the first carries the points."""
    previous = day - timedelta(days=1)
    items = []
    for key in keys:
        facts = violations[key]
        if change == Change.CRITICAL_STARTS and is_active(facts, previous):
            continue
        resolved = facts.resolved_on is not None and facts.resolved_on <= day
        items.append(Item(change, 0, key, facts, resolved=resolved))
    items[0] = replace(items[0], points=points)
    return items


def _scored_items(
    day: date,
    orders_before: int,
    orders_after: int,
    violations: Mapping[ViolationKey, ViolationFacts],
) -> list[Item]:
    """The volume step and the violations starting or ending, before the 0..1000 limits."""
    previous = day - timedelta(days=1)
    items = []
    if step := volume_bonus(orders_after) - volume_bonus(orders_before):
        items.append(Item(Change.VOLUME, step, orders=(orders_before, orders_after)))
    for key, facts in violations.items():
        was, now = is_active(facts, previous), is_active(facts, day)
        if was == now:
            continue
        points = violation_points(facts)
        if now:
            items.append(Item(Change.STARTS, -points, key, facts))
        elif facts.resolved_on is not None and facts.resolved_on <= day:
            items.append(Item(Change.RESOLVED, points, key, facts))
        else:
            items.append(Item(Change.EXPIRED, points, key, facts))
    return items


def window_orders(orders_by_day: Mapping[date, int], day: date) -> int:
    """Orders in the 180 days ending on `day` (rules §2.2)."""
    first = day - timedelta(days=WINDOW_DAYS - 1)
    return sum(orders for on, orders in orders_by_day.items() if first <= on <= day)


def explain_days(
    *,
    ratings: Mapping[date, int],
    orders_by_day: Mapping[date, int],
    violations: Mapping[ViolationKey, ViolationFacts],
    first_day: date,
    last_day: date,
) -> list[DayChange]:
    """The days from `first_day` to `last_day` whose recorded AHR differs from the day before's,
    newest first, each itemised. `orders_by_day` must cover 180 days before `first_day` on."""
    changes = []
    orders_after = window_orders(orders_by_day, first_day - timedelta(days=1))
    day = first_day
    while day <= last_day:
        orders_before = orders_after
        orders_after = roll_orders(
            orders_before,
            entering=orders_by_day.get(day, 0),
            leaving=orders_by_day.get(day - timedelta(days=WINDOW_DAYS), 0),
        )
        before, after = ratings.get(day - timedelta(days=1)), ratings.get(day)
        if before is not None and after is not None and before != after:
            items = explain_day(
                day=day,
                orders_before=orders_before,
                orders_after=orders_after,
                violations=violations,
                recorded_before=before,
                recorded_after=after,
            )
            changes.append(DayChange(day, before, after, items))
        day += timedelta(days=1)
    changes.reverse()
    return changes


# ---------------------------------------------------------------------------------------------
# The forecast
# ---------------------------------------------------------------------------------------------


def recent_daily_orders(
    orders_by_day: Mapping[date, int], *, last_day: date, opened_on: date
) -> Fraction:
    """The store account's recent daily order rate: the mean of the last RECENT_DAYS closed
    days, or of the days since it opened when fewer."""
    days = max(0, min(RECENT_DAYS, (last_day - opened_on).days + 1))
    if days == 0:
        return Fraction(0)
    first = last_day - timedelta(days=days - 1)
    total = sum(orders for on, orders in orders_by_day.items() if first <= on <= last_day)
    return Fraction(total, days)


def orders_on_day(rate: Fraction, n: int) -> int:
    """The whole orders of forecast day n (1 = the first day after the start) at `rate` a day:
    spread so that the first n days hold exactly floor(n * rate) orders."""
    # In whole numbers: the rate's fraction is fixed, so floor(n * rate) is an integer
    # division, and a forecast asks for it hundreds of times.
    numerator, denominator = rate.numerator, rate.denominator
    if numerator < 0:
        raise ValueError(f"a daily order rate cannot be negative: {rate}")
    return n * numerator // denominator - (n - 1) * numerator // denominator


@dataclass(frozen=True, slots=True)
class Start:
    """A store account's state as the nightly job keeps it after its last closed day."""

    last_day: date
    orders_in_window: int
    window: RatingWindow
    enrolled: bool
    facts: AccountFacts


@dataclass(frozen=True, slots=True)
class ForecastDay:
    """One forecast close of day: its AHR, and whether it enrolls or removes the account."""

    day: date
    ahr: int
    orders: int
    enrolled: bool
    enrolls: bool = False
    removes: RemovalReason | None = None
    waiting_for_contact: bool = False


class Never(StrEnum):
    """Why a store account that is not enrolled would never qualify under the forecast."""

    PLAN = "plan"  # E1: not on the Professional selling plan
    CONTACT = "contact"  # E2: no valid emergency contact (it would qualify with one)
    DEACTIVATED = "deactivated"  # E5: deactivated
    BARRED = "barred"  # E6: barred by a specialist
    BELOW_LINE = "below_line"  # E4: below 250 on more than 10 days of every window


@dataclass(frozen=True, slots=True)
class Forecast:
    """The forecast of a store account, and what it means for AHA."""

    start: Start
    daily_orders: Fraction
    days: tuple[ForecastDay, ...]
    # Not enrolled: the first day it would be enrolled, or why never; with no valid contact,
    # the day it would qualify once it adds one.
    qualifying_day: date | None
    never: Never | None
    qualifying_day_with_contact: date | None
    # Enrolled: days below the AHA line in a row now, the day R1 removes it if that goes on,
    # and the first removal the forecast itself foresees.
    consecutive_below_now: int
    r1_day_if_it_goes_on: date | None
    removal: ForecastDay | None

    @property
    def shown(self) -> tuple[ForecastDay, ...]:
        """The FORECAST_DAYS days drawn and listed."""
        return self.days[:FORECAST_DAYS]

    @property
    def first(self) -> ForecastDay:
        """The next close of day: the AHR "now" if nothing else changes."""
        return self.days[0]


def forecast(
    start: Start,
    *,
    orders_by_day: Mapping[date, int],
    violations: Iterable[ViolationFacts],
    daily_orders: Fraction,
) -> Forecast:
    """The next closes of day if orders go on at `daily_orders` a day and every open violation
    stays open until it expires; `orders_by_day` must hold the 180 days up to start.last_day."""
    known = tuple(violations)
    days = _simulate(start, orders_by_day, known, daily_orders, SEARCH_DAYS)
    qualifying = next((d.day for d in days if d.enrolls), None) if not start.enrolled else None
    never = None if start.enrolled or qualifying else _why_never(start.facts)
    with_contact = None
    if never is None and not start.enrolled and qualifying is None:
        never = Never.BELOW_LINE
    if never == Never.CONTACT:
        with_contact = next((d.day for d in days if d.waiting_for_contact), None)
        if with_contact is None:
            never = Never.BELOW_LINE
    consecutive = start.window.consecutive_days_below if start.window.last_day else 0
    return Forecast(
        start=start,
        daily_orders=daily_orders,
        days=days,
        qualifying_day=qualifying,
        never=never,
        qualifying_day_with_contact=with_contact,
        consecutive_below_now=consecutive,
        r1_day_if_it_goes_on=(
            start.last_day + timedelta(days=MAX_CONSECUTIVE_DAYS_BELOW + 1 - consecutive)
            if start.enrolled and consecutive
            else None
        ),
        removal=next((d for d in days if d.removes), None) if start.enrolled else None,
    )


def _why_never(facts: AccountFacts) -> Never | None:
    """What only a person can change stands in the way (none: only the AHR does)."""
    if not facts.professional:
        return Never.PLAN
    if facts.barred:
        return Never.BARRED
    if facts.deactivated:
        return Never.DEACTIVATED
    if not facts.has_valid_contact:
        return Never.CONTACT
    return None


def _simulate(
    start: Start,
    orders_by_day: Mapping[date, int],
    violations: tuple[ViolationFacts, ...],
    rate: Fraction,
    count: int,
) -> tuple[ForecastDay, ...]:
    """Close up to `count` days after start.last_day with the rules, as the nightly job would,
    and at least FORECAST_DAYS."""
    in_window, window, enrolled = start.orders_in_window, start.window, start.enrolled
    days: list[ForecastDay] = []
    answered = False
    # The days after FORECAST_DAYS are closed only to find the answer, and no longer than it
    # can take: an enrolled account's AHR is steady after WINDOW_DAYS, so R1 comes within
    # MAX_CONSECUTIVE_DAYS_BELOW + 1 days if ever; what only a person can change never passes.
    if start.enrolled:
        give_up = WINDOW_DAYS + MAX_CONSECUTIVE_DAYS_BELOW + 1
    elif _why_never(start.facts) not in (None, Never.CONTACT):
        give_up = FORECAST_DAYS
    else:
        give_up = count
    for n in range(1, count + 1):
        day = start.last_day + timedelta(days=n)
        entering = orders_on_day(rate, n)
        # The day leaving is a past day while n < 180, then a forecast day.
        leaving_day = day - timedelta(days=WINDOW_DAYS)
        leaving = (
            orders_by_day.get(leaving_day, 0)
            if leaving_day <= start.last_day
            else orders_on_day(rate, n - WINDOW_DAYS)
        )
        in_window = roll_orders(in_window, entering=entering, leaving=leaving)
        ahr = compute_ahr(orders_in_window=in_window, violations=violations, day=day)
        window = window.advance(day, ahr)
        decision = decide_day(enrolled=enrolled, window=window, facts=start.facts, day=day)
        enrolled = (enrolled or decision.enroll) and decision.remove is None
        days.append(
            ForecastDay(
                day=day,
                ahr=ahr,
                orders=entering,
                enrolled=enrolled,
                enrolls=decision.enroll,
                removes=decision.remove,
                waiting_for_contact=decision.waiting_for_contact,
            )
        )
        answered = answered or _answers(start, days[-1])
        if n >= FORECAST_DAYS and (answered or n >= give_up):
            break
    return tuple(days)


def _answers(start: Start, day: ForecastDay) -> bool:
    """Whether this forecast day answers the question the forecast is asked for the account:
    its first enrollment (or qualifying but for the contact), or, enrolled, its first removal."""
    if start.enrolled:
        return day.removes is not None
    return day.enrolls or day.waiting_for_contact


def what_if(
    start: Start,
    *,
    orders_by_day: Mapping[date, int],
    violations: Mapping[ViolationKey, ViolationFacts],
    resolve: Iterable[ViolationKey] = (),
    resolve_on: date,
    daily_orders: Fraction,
) -> Forecast:
    """The forecast if the violations in `resolve` (open ones) are resolved on `resolve_on` and
    orders go on at `daily_orders` a day. Keys that are not open violations are ignored."""
    chosen = set(resolve)
    changed = [
        replace(facts, resolved_on=resolve_on)
        if key in chosen and facts.resolved_on is None
        else facts
        for key, facts in violations.items()
    ]
    return forecast(
        start, orders_by_day=orders_by_day, violations=changed, daily_orders=daily_orders
    )


def is_open_on(facts: ViolationFacts, day: date) -> bool:
    """Whether a violation is open (not resolved) and still within its 180 days on `day`:
    one a what-if can resolve."""
    return facts.resolved_on is None and is_active(facts, day)
