"""AHA eligibility, enrollment and removal for one store account: pure rules and their numbers.

Nothing here touches Django or the database: callers pass a RatingWindow, plain facts and the day,
and get a decision with its reasons back. The rules are those of the product specification,
§3 and §4.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from health.rating import AHA_LINE, WINDOW_DAYS, is_below_aha_line

# E3: an AHR on record for every one of the 180 days D-179..D.
REQUIRED_DAYS_ON_RECORD = WINDOW_DAYS
# E4: days below AHA_LINE allowed in the window, counted in total, not in a row.
MAX_DAYS_BELOW = 10
# R1: an enrolled store account loses AHA on the close of the 11th consecutive day below.
MAX_CONSECUTIVE_DAYS_BELOW = 10
# "Eligible, waiting for an emergency contact" emails a seller at most this often.
CONTACT_REMINDER_INTERVAL = timedelta(days=30)
# R4: an AHA case is missed when the seller has not engaged this long after first contact.
ENGAGEMENT_WINDOW = timedelta(hours=72)
# Reminder emails for an AHA case go out this long before its engagement deadline.
ENGAGEMENT_REMINDERS = (timedelta(hours=24), timedelta(hours=4))
# Standard enforcement: the deadline of the warning sent for an AHR closing a day below 100.
STANDARD_WARNING_PERIOD = timedelta(days=3)
# "Call me now": one open callback request per seller at a time...
MAX_OPEN_CALLBACKS = 1
# ...and at most this many requests per seller in any CALLBACK_LIMIT_PERIOD.
MAX_CALLBACKS_PER_DAY = 3
CALLBACK_LIMIT_PERIOD = timedelta(hours=24)
# A marketplace with no completed close of day for this long is shown to specialists as stalled:
# one day plus slack, so that a slow but healthy night is not flagged.
STALE_CLOSE_AFTER = timedelta(hours=26)

# Only the last WINDOW_DAYS days are ever kept in RatingWindow.below_mask.
_WINDOW_MASK = (1 << WINDOW_DAYS) - 1


class Criterion(StrEnum):
    """An eligibility criterion of rules §3."""

    E1 = "E1"
    E2 = "E2"
    E3 = "E3"
    E4 = "E4"
    E5 = "E5"
    E6 = "E6"

    @property
    def label(self) -> str:
        """A short English sentence saying what the criterion asks for."""
        return _CRITERION_LABELS[self]


_CRITERION_LABELS = {
    Criterion.E1: "Professional selling plan",
    Criterion.E2: "A valid emergency contact phone number",
    Criterion.E3: f"An AHR on record for each of the last {REQUIRED_DAYS_ON_RECORD} days",
    Criterion.E4: f"AHR below {AHA_LINE} on no more than {MAX_DAYS_BELOW} of those days",
    Criterion.E5: "Not deactivated, and AHA available in the marketplace",
    Criterion.E6: "Not barred from AHA",
}


class RemovalReason(StrEnum):
    """Why an enrolled store account lost AHA (rules §4)."""

    R1 = "R1"
    R2 = "R2"
    R3 = "R3"
    R4 = "R4"
    R5 = "R5"
    R6 = "R6"
    R7 = "R7"

    @property
    def label(self) -> str:
        """A short English sentence giving the reason."""
        return _REMOVAL_LABELS[self]

    @property
    def bars(self) -> bool:
        """Whether this removal bars re-enrollment until a specialist lifts the bar."""
        return self in (RemovalReason.R6, RemovalReason.R7)

    @property
    def deactivates(self) -> bool:
        """Whether this removal also deactivates the store account."""
        return self in (RemovalReason.R4, RemovalReason.R5, RemovalReason.R7)


_REMOVAL_LABELS = {
    RemovalReason.R1: (
        f"AHR below {AHA_LINE} for more than {MAX_CONSECUTIVE_DAYS_BELOW} consecutive days"
    ),
    RemovalReason.R2: "Selling plan no longer Professional",
    RemovalReason.R3: "No valid emergency contact phone number any more",
    RemovalReason.R4: (
        f"Did not engage within {ENGAGEMENT_WINDOW // timedelta(hours=1)} hours"
        " of being contacted about an AHA case"
    ),
    RemovalReason.R5: "Did not fully resolve an AHA case",
    RemovalReason.R6: "Not compliant with local laws or regulations",
    RemovalReason.R7: "Suspected fraudulent, deceptive, illegal or harmful activity",
}


@dataclass(frozen=True, slots=True)
class RatingWindow:
    """What a store account needs to remember of its recorded AHRs, in constant space.

    `days_on_record` counts the consecutive recorded days ending at `last_day` (capped at
    REQUIRED_DAYS_ON_RECORD); bit i of `below_mask` is set when the AHR recorded for
    `last_day - i` days was below AHA_LINE. Of an AHR it records only that: whether it is below
    the line (is_below_aha_line).
    """

    last_day: date | None = None
    days_on_record: int = 0
    below_mask: int = 0

    def __post_init__(self) -> None:
        # These values are loaded from storage; refuse corrupt ones instead of deciding on them.
        if not 0 <= self.days_on_record <= REQUIRED_DAYS_ON_RECORD:
            raise ValueError(f"days_on_record out of range: {self.days_on_record}")
        if not 0 <= self.below_mask <= _WINDOW_MASK:
            raise ValueError(f"below_mask must fit in {WINDOW_DAYS} bits")
        if self.last_day is None and (self.days_on_record or self.below_mask):
            raise ValueError("a window with no last_day cannot hold records")

    def advance(self, day: date, ahr: int) -> "RatingWindow":
        """The window after recording the AHR of `day`, a day after `last_day`."""
        below = 1 if is_below_aha_line(ahr) else 0
        if self.last_day is None:
            return RatingWindow(last_day=day, days_on_record=1, below_mask=below)
        gap = (day - self.last_day).days
        if gap <= 0:
            raise ValueError(f"{day} is not after the last recorded day {self.last_day}")
        # A missing day breaks the run of days on record: E3 needs every day of the window.
        run = self.days_on_record + 1 if gap == 1 else 1
        return RatingWindow(
            last_day=day,
            days_on_record=min(run, REQUIRED_DAYS_ON_RECORD),
            below_mask=_shifted(self.below_mask, gap) | below,
        )

    def at(self, day: date) -> "RatingWindow":
        """The window as seen on `day` (on or after `last_day`) with nothing more recorded."""
        if self.last_day is None or day == self.last_day:
            return self
        gap = (day - self.last_day).days
        if gap < 0:
            raise ValueError(f"{day} is before the last recorded day {self.last_day}")
        # `day` itself has no record, so the run of days on record ending on it is empty.
        return RatingWindow(
            last_day=day, days_on_record=0, below_mask=_shifted(self.below_mask, gap)
        )

    @property
    def days_below(self) -> int:
        """Recorded days below AHA_LINE in the 180 days ending at `last_day`."""
        return self.below_mask.bit_count()

    @property
    def consecutive_days_below(self) -> int:
        """Days below AHA_LINE in a row, ending at `last_day`."""
        # m ^ (m + 1) sets exactly the trailing ones of m plus the bit above them.
        return ((self.below_mask ^ (self.below_mask + 1)) >> 1).bit_length()


def _shifted(mask: int, days: int) -> int:
    """The below mask `days` later, with the days that left the window dropped."""
    return (mask << days) & _WINDOW_MASK


@dataclass(frozen=True, slots=True)
class AccountFacts:
    """The facts about a store account (and its seller) that eligibility depends on."""

    professional: bool
    has_valid_contact: bool
    deactivated: bool
    aha_available_from: date
    barred: bool


@dataclass(frozen=True, slots=True)
class Eligibility:
    """The eligibility of a store account on a day, with the progress figures a seller needs."""

    eligible: bool
    waiting_for_contact: bool
    failing: tuple[Criterion, ...]
    days_on_record: int
    days_below: int
    first_qualifying_day: date | None

    @property
    def days_required(self) -> int:
        """Days on record that E3 asks for."""
        return REQUIRED_DAYS_ON_RECORD

    @property
    def days_below_allowed(self) -> int:
        """Days below AHA_LINE that E4 allows in the window."""
        return MAX_DAYS_BELOW


def evaluate_eligibility(window: RatingWindow, facts: AccountFacts, day: date) -> Eligibility:
    """Whether a store account is eligible for AHA at the close of `day` (E1-E6), and why not."""
    view = window.at(day)
    checks = (
        (Criterion.E1, facts.professional),
        (Criterion.E2, facts.has_valid_contact),
        (Criterion.E3, view.days_on_record >= REQUIRED_DAYS_ON_RECORD),
        (Criterion.E4, view.days_below <= MAX_DAYS_BELOW),
        (Criterion.E5, not facts.deactivated and day >= facts.aha_available_from),
        (Criterion.E6, not facts.barred),
    )
    failing = tuple(criterion for criterion, holds in checks if not holds)
    waiting_for_contact = failing == (Criterion.E2,)
    qualifies_today = waiting_for_contact or not failing
    return Eligibility(
        eligible=not failing,
        waiting_for_contact=waiting_for_contact,
        failing=failing,
        days_on_record=view.days_on_record,
        days_below=view.days_below,
        first_qualifying_day=day if qualifies_today else _first_qualifying_day(view, facts, day),
    )


def _first_qualifying_day(view: RatingWindow, facts: AccountFacts, day: date) -> date | None:
    """The first day from `day` on that meets E1 and E3-E6 if every later day closes >= 250."""
    # Only a person can change the plan, lift a bar or reinstate; time alone fixes none of them.
    if not facts.professional or facts.barred or facts.deactivated:
        return None
    # Each wait only shrinks as good days are added, so the latest of them is the answer.
    wait = max(
        REQUIRED_DAYS_ON_RECORD - view.days_on_record,
        _days_until_few_enough_below(view.below_mask),
        (facts.aha_available_from - day).days,
        0,
    )
    return day + timedelta(days=wait)


def _days_until_few_enough_below(mask: int) -> int:
    """Days until enough of the oldest below days have left the window for E4 to hold."""
    if mask.bit_count() <= MAX_DAYS_BELOW:
        return 0
    # The most recent MAX_DAYS_BELOW days below may stay; clearing the lowest set bit that many
    # times leaves the most recent day below that has to go as the lowest set bit.
    for _ in range(MAX_DAYS_BELOW):
        mask &= mask - 1
    must_leave = (mask & -mask).bit_length() - 1
    # Bit i is day D-i, which is no longer in the window of day D+k once i + k >= WINDOW_DAYS.
    return WINDOW_DAYS - must_leave


def removal_reason(window: RatingWindow, facts: AccountFacts) -> RemovalReason | None:
    """Why an enrolled store account loses AHA at this close of day (R1-R3), if it does."""
    # Enrollment is sticky: E3 and E4 are not tested again, only these three reasons.
    if not facts.professional:
        return RemovalReason.R2
    if not facts.has_valid_contact:
        return RemovalReason.R3
    if window.consecutive_days_below > MAX_CONSECUTIVE_DAYS_BELOW:
        return RemovalReason.R1
    return None


@dataclass(frozen=True, slots=True)
class DayDecision:
    """What closing a day means for one store account's enrollment."""

    enroll: bool
    remove: RemovalReason | None
    eligibility: Eligibility | None
    waiting_for_contact: bool


# The decision of most nights for an enrolled store account; one shared value, not one a night.
STAYS_ENROLLED = DayDecision(enroll=False, remove=None, eligibility=None, waiting_for_contact=False)


def decide_day(
    *, enrolled: bool, window: RatingWindow, facts: AccountFacts, day: date
) -> DayDecision:
    """The nightly enrollment decision for a store account whose AHR of `day` is in `window`."""
    view = window.at(day)
    if enrolled:
        reason = removal_reason(view, facts)
        if reason is None:
            return STAYS_ENROLLED
        # The progress figures go with the removal (how to regain AHA); re-enrolling waits for
        # a later close even if the account would qualify again today.
        return DayDecision(
            enroll=False,
            remove=reason,
            eligibility=evaluate_eligibility(view, facts, day),
            waiting_for_contact=False,
        )
    eligibility = evaluate_eligibility(view, facts, day)
    return DayDecision(
        enroll=eligibility.eligible,
        remove=None,
        eligibility=eligibility,
        waiting_for_contact=eligibility.waiting_for_contact,
    )


def should_remind_about_contact(last_reminded_on: date | None, day: date) -> bool:
    """Whether to email a seller waiting for a contact again (at most once in 30 days)."""
    return last_reminded_on is None or day - last_reminded_on >= CONTACT_REMINDER_INTERVAL
