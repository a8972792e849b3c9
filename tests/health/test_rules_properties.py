"""The incremental nightly path agrees with a slow reference that recomputes everything each day.

The incremental path is what production runs: an O(1) rolling order sum (roll_orders), the
RatingWindow bit mask and decide_day, carried from one day to the next. The reference below is
written from the specification on purpose without the module's helpers or constants: it rescans the
whole history every day. Only the dataclasses are shared.
"""

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta

from hypothesis import event, example, given, settings
from hypothesis import strategies as st

from health.eligibility import AccountFacts, RatingWindow, decide_day, evaluate_eligibility
from health.rating import (
    WINDOW_DAYS,
    Severity,
    ViolationFacts,
    compute_ahr,
    is_repeat,
    roll_orders,
)

START = date(2024, 1, 1)
ONE_DAY = timedelta(days=1)
CATEGORIES = ("Listing policy violations", "Food and product safety issues", "Document requests")
EVENT_KINDS = (
    "plan_individual",
    "plan_professional",
    "contact_lost",
    "contact_added",
    "bar",
    "lift_bar",
    "deactivate",
    "reinstate",
)
RULES = settings(max_examples=150, deadline=None)
order_level = st.sampled_from([0, 13, 14, 15, 16, 20, 40]) | st.integers(0, 100)

# The spec's numbers, written out again here so that a wrong constant in the module shows.
SPEC_WINDOW_DAYS = 180
SPEC_START = 200
SPEC_POINTS = {"low": 2, "medium": 4, "high": 8}
SPEC_LINE = 250
SPEC_MAX_BELOW = 10
SPEC_MAX_IN_A_ROW = 10


# --- Generated histories ---


@dataclass(frozen=True)
class RawViolation:
    category: str
    severity: Severity
    detected: int  # day index
    resolved_after: int | None  # days after detection, or still open


@dataclass(frozen=True)
class History:
    orders: Sequence[int]  # orders fulfilled on each day, day 0 = START
    skipped: frozenset[int]  # days whose close never happened
    violations: Sequence[RawViolation]
    events: Sequence[tuple[int, str]]  # (day index, kind), applied before that day closes
    initial: AccountFacts

    @property
    def length(self) -> int:
        return len(self.orders)


@st.composite
def histories(draw: st.DrawFn) -> History:
    # Enrollment needs 180 days on record, so long histories are favoured.
    length = draw(st.integers(180, 400) | st.integers(1, 400))
    # Enrollment comes on day 179 at the earliest, so changes are often drawn after it.
    day_index = st.integers(0, length - 1) | st.integers(min(180, length - 1), length - 1)
    # Two order levels with a switch between them keep the AHR hovering around 250, climbing or
    # falling through it (14.4 orders a day is the 250 line); tweaks add noise. A big first day
    # lifts the AHR from the start and drops it when it leaves the window on day 180; rare spikes
    # reach the 1000 clamp.
    switch = draw(day_index)
    orders = [draw(order_level)] * switch + [draw(order_level)] * (length - switch)
    orders[0] = draw(st.sampled_from([0, 2_600, 6_000]) | st.integers(0, 6_000))
    tweaks = st.tuples(day_index, st.integers(0, 100))
    spikes = st.tuples(day_index, st.integers(0, 10**7))
    for index, count in [*draw(st.lists(tweaks, max_size=20)), *draw(st.lists(spikes, max_size=2))]:
        orders[index] = count
    severities = st.sampled_from([*[Severity.LOW] * 3, *[Severity.MEDIUM] * 2, *Severity])
    violations = draw(
        st.lists(
            st.builds(
                RawViolation,
                category=st.sampled_from(CATEGORIES),
                severity=severities,
                detected=day_index,
                resolved_after=st.none() | st.integers(0, 200),
            ),
            max_size=8,
        )
    )
    initial = AccountFacts(
        professional=draw(st.sampled_from([True, True, True, False])),
        has_valid_contact=draw(st.sampled_from([True, True, True, False])),
        deactivated=False,
        aha_available_from=START + timedelta(days=draw(st.integers(-400, 0) | day_index)),
        barred=False,
    )
    rare_days = st.just(set()) | st.sets(day_index, max_size=2)
    events = st.just([]) | st.lists(st.tuples(day_index, st.sampled_from(EVENT_KINDS)), max_size=6)
    return History(
        orders=orders,
        skipped=frozenset(draw(rare_days)),
        violations=violations,
        events=sorted(draw(events)),
        initial=initial,
    )


def day_of(index: int) -> date:
    return START + timedelta(days=index)


def resolved_on(violation: RawViolation) -> date | None:
    if violation.resolved_after is None:
        return None
    return day_of(violation.detected + violation.resolved_after)


# --- The harness both paths share: events that happen during a day (not rules under test) ---


def apply_event(facts: AccountFacts, enrolled: bool, kind: str) -> tuple[AccountFacts, bool, str]:
    """Returns the new facts, whether still enrolled, and what happened to enrollment."""
    match kind:
        case "plan_individual":
            return replace(facts, professional=False), enrolled, ""
        case "plan_professional":
            return replace(facts, professional=True), enrolled, ""
        case "contact_lost":
            return replace(facts, has_valid_contact=False), enrolled, ""
        case "contact_added":
            return replace(facts, has_valid_contact=True), enrolled, ""
        case "bar":  # a specialist's R6 decision: removed at once and barred
            return replace(facts, barred=True), False, "R6" if enrolled else ""
        case "lift_bar":
            return replace(facts, barred=False), enrolled, ""
        case "deactivate":  # an unresolved AHA case (R5) or standard enforcement
            return replace(facts, deactivated=True), False, "R5" if enrolled else ""
        case "reinstate":
            return replace(facts, deactivated=False), enrolled, ""
    raise AssertionError(kind)


def events_of(history: History, index: int) -> list[str]:
    return [kind for at, kind in history.events if at == index]


# Each closed day is logged as (day, AHR, enroll, removal reason, waiting for contact, failing
# criteria, days on record, days below); an event removal as (day, "event", reason).
Log = list[tuple[object, ...]]


# --- The incremental path: what the nightly job does ---


def run_incremental(history: History) -> Log:
    log: Log = []
    orders_in_window = 0
    window = RatingWindow()
    facts, enrolled = history.initial, False
    detections: list[tuple[str, date]] = []
    violations: list[ViolationFacts] = []
    for index in range(history.length):
        day = day_of(index)
        leaving = history.orders[index - WINDOW_DAYS] if index >= WINDOW_DAYS else 0
        orders_in_window = roll_orders(
            orders_in_window, entering=history.orders[index], leaving=leaving
        )
        for raw in history.violations:
            if raw.detected == index:
                repeat = is_repeat(raw.category, day, detections)
                detections.append((raw.category, day))
                violations.append(
                    ViolationFacts(raw.category, raw.severity, day, resolved_on(raw), repeat)
                )
        for kind in events_of(history, index):
            facts, enrolled, removed = apply_event(facts, enrolled, kind)
            if removed:
                log.append((day, "event", removed))
        if index in history.skipped:
            continue
        ahr = compute_ahr(orders_in_window=orders_in_window, violations=violations, day=day)
        window = window.advance(day, ahr)
        decision = decide_day(enrolled=enrolled, window=window, facts=facts, day=day)
        eligibility = decision.eligibility
        figures = (
            (eligibility.failing, eligibility.days_on_record, eligibility.days_below)
            if eligibility
            else (None, None, None)
        )
        log.append(
            (day, ahr, decision.enroll, decision.remove, decision.waiting_for_contact, *figures)
        )
        enrolled = (enrolled or decision.enroll) and decision.remove is None
    return log


# --- The slow reference: every figure recomputed from the full history each day ---


def reference_repeat(violations: Sequence[RawViolation], position: int) -> bool:
    this = violations[position]
    # Rules §2.3: another of its category detected on one of the days V-180..V-1 (local days).
    window = range(this.detected - SPEC_WINDOW_DAYS, this.detected)
    return any(
        other.category == this.category and other.detected in window
        for other_position, other in enumerate(violations)
        if other_position != position
    )


def reference_ahr(
    orders_by_day: dict[date, int], violations: Sequence[RawViolation], day: date
) -> int:
    first_in_window = day - timedelta(days=SPEC_WINDOW_DAYS - 1)
    orders = sum(count for d, count in orders_by_day.items() if first_in_window <= d <= day)
    penalty = 0
    for position, violation in enumerate(violations):
        detected = day_of(violation.detected)
        resolved = resolved_on(violation)
        if detected > day or (resolved is not None and resolved <= day):
            continue
        if (day - detected).days >= SPEC_WINDOW_DAYS:
            continue
        if violation.severity == "critical":
            return 0
        points = SPEC_POINTS[violation.severity]
        penalty += 2 * points if reference_repeat(violations, position) else points
    return max(0, min(1000, SPEC_START + 4 * (orders // 200) - penalty))


def reference_days_on_record(records: dict[date, int], day: date) -> int:
    count = 0
    while day in records and count < SPEC_WINDOW_DAYS:
        count += 1
        day -= ONE_DAY
    return count


def reference_days_below(records: dict[date, int], day: date) -> int:
    first_in_window = day - timedelta(days=SPEC_WINDOW_DAYS - 1)
    return sum(1 for d, ahr in records.items() if first_in_window <= d <= day and ahr < SPEC_LINE)


def reference_consecutive_below(records: dict[date, int], day: date) -> int:
    count = 0
    while records.get(day, SPEC_LINE) < SPEC_LINE:
        count += 1
        day -= ONE_DAY
    return count


def reference_failing(records: dict[date, int], facts: AccountFacts, day: date) -> tuple[str, ...]:
    failing = []
    if not facts.professional:
        failing.append("E1")
    if not facts.has_valid_contact:
        failing.append("E2")
    if reference_days_on_record(records, day) < SPEC_WINDOW_DAYS:
        failing.append("E3")
    if reference_days_below(records, day) > SPEC_MAX_BELOW:
        failing.append("E4")
    if facts.deactivated or day < facts.aha_available_from:
        failing.append("E5")
    if facts.barred:
        failing.append("E6")
    return tuple(failing)


def reference_removal(records: dict[date, int], facts: AccountFacts, day: date) -> str | None:
    if not facts.professional:
        return "R2"
    if not facts.has_valid_contact:
        return "R3"
    if reference_consecutive_below(records, day) > SPEC_MAX_IN_A_ROW:
        return "R1"
    return None


def run_reference(history: History) -> Log:
    log: Log = []
    records: dict[date, int] = {}
    orders_by_day = {day_of(index): count for index, count in enumerate(history.orders)}
    facts, enrolled = history.initial, False
    for index in range(history.length):
        day = day_of(index)
        for kind in events_of(history, index):
            facts, enrolled, removed = apply_event(facts, enrolled, kind)
            if removed:
                log.append((day, "event", removed))
        if index in history.skipped:
            continue
        ahr = reference_ahr(orders_by_day, history.violations, day)
        records[day] = ahr
        removal = reference_removal(records, facts, day) if enrolled else None
        if enrolled and removal is None:
            log.append((day, ahr, False, None, False, None, None, None))
            continue
        failing = reference_failing(records, facts, day)
        enroll = not enrolled and not failing
        waiting = not enrolled and failing == ("E2",)
        figures = (
            failing,
            reference_days_on_record(records, day),
            reference_days_below(records, day),
        )
        log.append((day, ahr, enroll, removal, waiting, *figures))
        enrolled = enroll
    return log


def outcomes(log: Log) -> set[str]:
    """The kinds of thing that happened in a logged history, to show what a test covered."""
    found = set()
    for entry in log:
        if entry[1] == "event":
            found.add(f"removed by event {entry[2]}")
            continue
        found.update(
            label
            for label, happened in (
                ("enrolled", entry[2]),
                (f"removed {entry[3]}", entry[3]),
                ("waiting for contact", entry[4]),
            )
            if happened
        )
    return found


def professional_with_contact(**changes: object) -> AccountFacts:
    base = AccountFacts(
        professional=True,
        has_valid_contact=True,
        deactivated=False,
        aha_available_from=START,
        barred=False,
    )
    return replace(base, **changes)


# 20 orders a day keep the AHR at 272; the first day's 6,000 orders carry the first 180 days.
STEADY_ORDERS = (6_000, *[20] * 399)

# Enrolled on day 179; a critical violation zeroes days 200-214, so R1 on day 210; back in once
# the oldest extra day below has left the window (day 384).
CRITICAL_DROP = History(
    orders=STEADY_ORDERS,
    skipped=frozenset(),
    violations=(
        RawViolation(CATEGORIES[0], Severity.LOW, 100, None),
        RawViolation(CATEGORIES[0], Severity.MEDIUM, 150, 100),
        RawViolation(CATEGORIES[1], Severity.CRITICAL, 200, 15),
    ),
    events=(),
    initial=professional_with_contact(),
)

# Waiting for a contact until day 185, then every other way in and out of AHA in turn; the
# missed close of day 300 does not touch an enrolled account.
EVERY_EVENT = History(
    orders=STEADY_ORDERS,
    skipped=frozenset({300}),
    violations=(),
    events=(
        (185, "contact_added"),
        (200, "plan_individual"),
        (205, "plan_professional"),
        (220, "contact_lost"),
        (225, "contact_added"),
        (240, "bar"),
        (250, "lift_bar"),
        (260, "deactivate"),
        (270, "reinstate"),
    ),
    initial=professional_with_contact(has_valid_contact=False),
)


# Rules §2.3 at its two edges: two low violations of one category detected on day 20 are both
# single (198 - 2 - 2); a low one detected on day 180, exactly 180 days after day 0's, is a repeat
# (4 points) on the day day 0's leaves the window: 200 - 4 - 4.
REPEAT_EDGES = History(
    orders=(0,) * 200,
    skipped=frozenset(),
    violations=(
        RawViolation(CATEGORIES[0], Severity.LOW, 0, None),
        RawViolation(CATEGORIES[0], Severity.LOW, 180, None),
        RawViolation(CATEGORIES[1], Severity.LOW, 20, None),
        RawViolation(CATEGORIES[1], Severity.LOW, 20, None),
    ),
    events=(),
    initial=professional_with_contact(),
)


def test_repeat_edges_history_counts_180_days_apart_double_and_same_day_single() -> None:
    ahrs = {(entry[0] - START).days: entry[1] for entry in run_reference(REPEAT_EDGES)}
    assert (ahrs[19], ahrs[20], ahrs[179], ahrs[180], ahrs[199]) == (198, 194, 194, 192, 192)


def changes_in(log: Log) -> list[tuple[int, str]]:
    """(day number, what changed) for every enrollment and removal in a log."""
    changes = []
    for entry in log:
        day = (entry[0] - START).days
        if entry[1] == "event":
            changes.append((day, str(entry[2])))
        elif entry[2]:
            changes.append((day, "enrolled"))
        elif entry[3]:
            changes.append((day, str(entry[3])))
    return changes


def test_critical_drop_history_loses_aha_with_r1_and_comes_back() -> None:
    assert changes_in(run_reference(CRITICAL_DROP)) == [
        (179, "enrolled"),
        (210, "R1"),
        (384, "enrolled"),
    ]


def test_every_event_history_goes_in_and_out_every_way() -> None:
    log = run_reference(EVERY_EVENT)
    assert changes_in(log) == [
        (185, "enrolled"),
        (200, "R2"),
        (205, "enrolled"),
        (220, "R3"),
        (225, "enrolled"),
        (240, "R6"),
        (250, "enrolled"),
        (260, "R5"),
        (270, "enrolled"),
    ]
    waiting = [(entry[0] - START).days for entry in log if entry[1] != "event" and entry[4]]
    assert waiting == [179, 180, 181, 182, 183, 184, 221, 222, 223, 224]


@RULES
@given(histories())
@example(CRITICAL_DROP)
@example(EVERY_EVENT)
@example(REPEAT_EDGES)
def test_incremental_path_matches_the_reference_every_day(history: History) -> None:
    incremental = run_incremental(history)
    reference = run_reference(history)
    for outcome in outcomes(reference):
        event(outcome)
    assert len(incremental) == len(reference)
    for mine, expected in zip(incremental, reference, strict=True):
        assert mine == expected


# --- first_qualifying_day ---


@st.composite
def recorded_ahrs(draw: st.DrawFn) -> list[int | None]:
    """Daily AHRs ending today (None = no close that day), with a few days below 250."""
    length = draw(st.integers(150, 400) | st.integers(1, 400))
    day_index = st.integers(0, length - 1)
    below = draw(st.sets(day_index, max_size=30))
    skipped = draw(st.sets(day_index, max_size=3))
    below_value = draw(st.sampled_from([0, 99, 249]))
    good_value = draw(st.sampled_from([250, 251, 1000]))
    ahrs: list[int | None] = [
        None if index in skipped else below_value if index in below else good_value
        for index in range(length)
    ]
    return ahrs


@RULES
@given(
    ahrs=recorded_ahrs(),
    available_in=st.integers(-30, 0) | st.integers(-30, 600),
    has_valid_contact=st.booleans(),
)
def test_first_qualifying_day_is_the_first_day_the_reference_finds_eligible(
    ahrs: list[int | None], available_in: int, has_valid_contact: bool
) -> None:
    today = day_of(len(ahrs) - 1)
    window = RatingWindow()
    records: dict[date, int] = {}
    for index, ahr in enumerate(ahrs):
        if ahr is not None:
            window = window.advance(day_of(index), ahr)
            records[day_of(index)] = ahr
    facts = AccountFacts(
        professional=True,
        has_valid_contact=has_valid_contact,
        deactivated=False,
        aha_available_from=today + timedelta(days=available_in),
        barred=False,
    )
    first = evaluate_eligibility(window, facts, today).first_qualifying_day
    assert first is not None and first >= today
    event("qualifies today" if first == today else "qualifies later")
    # From tomorrow on every close is at least 250; E2 does not hold the date back.
    day = today
    while day < first:
        day += timedelta(days=1)
        records[day] = SPEC_LINE
    assert set(reference_failing(records, facts, first)) <= {"E2"}
    if first > today:
        assert set(reference_failing(records, facts, first - timedelta(days=1))) - {"E2"}


@RULES
@given(
    ahrs=recorded_ahrs(),
    professional=st.booleans(),
    deactivated=st.booleans(),
    barred=st.booleans(),
)
def test_no_qualifying_day_when_only_a_person_can_fix_it(
    ahrs: list[int | None], professional: bool, deactivated: bool, barred: bool
) -> None:
    today = day_of(len(ahrs) - 1)
    window = RatingWindow()
    for index, ahr in enumerate(ahrs):
        if ahr is not None:
            window = window.advance(day_of(index), ahr)
    facts = AccountFacts(
        professional=professional,
        has_valid_contact=True,
        deactivated=deactivated,
        aha_available_from=START,
        barred=barred,
    )
    first = evaluate_eligibility(window, facts, today).first_qualifying_day
    assert (first is None) == (not professional or deactivated or barred)
