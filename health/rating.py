"""The Account Health Rating (AHR) of a store account: pure rules, the one home of their numbers.

Nothing here touches Django or the database: callers pass plain facts and the day, and get an
integer back. The rules are those of the product specification, §2.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

# Six months, taken as 180 days (a decision): the life of a violation, the span of the volume
# bonus, and the span of the eligibility window all use this one number.
WINDOW_DAYS = 180

# Every new store account starts here, and the volume bonus and penalties move it from here.
STARTING_AHR = 200

# +4 points for every full 200 orders in the window: 2,599 orders give 48, 2,600 give 52.
ORDERS_PER_BONUS_STEP = 200
BONUS_POINTS_PER_STEP = 4

# A repeat violation (another of its category detected on one of the 180 local days before its
# own detection day) counts this many times.
REPEAT_MULTIPLIER = 2

MIN_AHR = 0
MAX_AHR = 1000

# Band boundaries: Healthy 200-1000, At risk 100-199, Unhealthy 0-99. Closing a day below
# AT_RISK_FROM is a deactivation-level event.
HEALTHY_FROM = 200
AT_RISK_FROM = 100

# The line that eligibility and removal count days against ("below 250").
AHA_LINE = 250


class Severity(StrEnum):
    """How serious a violation is; it decides the points it takes off."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


# Critical is deliberately absent: an active critical violation zeroes the AHR instead.
SEVERITY_POINTS: Mapping[Severity, int] = {
    Severity.LOW: 2,
    Severity.MEDIUM: 4,
    Severity.HIGH: 8,
}


class Band(StrEnum):
    """The colour band of an AHR on the dashboard."""

    HEALTHY = "healthy"
    AT_RISK = "at_risk"
    UNHEALTHY = "unhealthy"


@dataclass(frozen=True, slots=True)
class ViolationFacts:
    """What the AHR needs to know about one violation."""

    category: str
    severity: Severity
    detected_on: date
    resolved_on: date | None = None
    repeat: bool = False


def is_active(violation: ViolationFacts, day: date) -> bool:
    """Whether the violation counts against the AHR of `day`."""
    if violation.detected_on > day:
        return False
    # Resolution raises the AHR from the day of resolution itself, never in the past.
    if violation.resolved_on is not None and violation.resolved_on <= day:
        return False
    return (day - violation.detected_on).days < WINDOW_DAYS


def is_repeat(
    category: str, detected_on: date, earlier_detections: Iterable[tuple[str, date]]
) -> bool:
    """Whether a violation detected on `detected_on` counts double (decision, rules §2.3)."""
    # "Detected in the 180 days before it" is the local days V-180..V-1, resolved or not: one
    # detected on the same local day is not before it, one 180 days back is, 181 days is not.
    return any(
        earlier_category == category and 1 <= (detected_on - earlier_on).days <= WINDOW_DAYS
        for earlier_category, earlier_on in earlier_detections
    )


def violation_points(violation: ViolationFacts) -> int:
    """The points a low, medium or high violation takes off the AHR while it is active."""
    if violation.severity == Severity.CRITICAL:
        raise ValueError("a critical violation has no points: it sets the AHR to 0")
    points = SEVERITY_POINTS[violation.severity]
    return points * REPEAT_MULTIPLIER if violation.repeat else points


def volume_bonus(orders_in_window: int) -> int:
    """The points earned by the orders fulfilled in the 180-day window."""
    if orders_in_window < 0:
        raise ValueError(f"orders in the window cannot be negative: {orders_in_window}")
    return BONUS_POINTS_PER_STEP * (orders_in_window // ORDERS_PER_BONUS_STEP)


def compute_ahr(*, orders_in_window: int, violations: Iterable[ViolationFacts], day: date) -> int:
    """The AHR of a store account on `day`, from 0 to 1000."""
    active = [violation for violation in violations if is_active(violation, day)]
    if not active:
        # Most store accounts, most nights: the bonus alone (bounded above by MAX_AHR).
        return min(MAX_AHR, STARTING_AHR + volume_bonus(orders_in_window))
    if any(violation.severity == Severity.CRITICAL for violation in active):
        return MIN_AHR
    penalty = sum(violation_points(violation) for violation in active)
    ahr = STARTING_AHR + volume_bonus(orders_in_window) - penalty
    return max(MIN_AHR, min(MAX_AHR, ahr))


def band(ahr: int) -> Band:
    """The dashboard band (green, yellow, red) of an AHR."""
    if ahr >= HEALTHY_FROM:
        return Band.HEALTHY
    if ahr >= AT_RISK_FROM:
        return Band.AT_RISK
    return Band.UNHEALTHY


def is_at_risk(ahr: int) -> bool:
    """Whether an AHR puts a (not deactivated) store account in the AT_RISK status."""
    return ahr < HEALTHY_FROM


def is_deactivation_level(ahr: int) -> bool:
    """Whether closing a day with this AHR is a deactivation-level event."""
    return ahr < AT_RISK_FROM


def is_below_aha_line(ahr: int) -> bool:
    """Whether an AHR counts as a day below the line for eligibility (E4) and removal (R1)."""
    return ahr < AHA_LINE


def roll_orders(orders_in_window: int, *, entering: int, leaving: int) -> int:
    """Move the 180-day order sum one day on: add the new day, drop the day 180 days back."""
    if entering < 0 or leaving < 0:
        raise ValueError(f"daily orders cannot be negative: entering={entering} leaving={leaving}")
    rolled = orders_in_window + entering - leaving
    if rolled < 0:
        # The day leaving was never added, or was added twice: the stored sum is corrupt.
        raise ValueError(
            f"rolling sum would go negative ({orders_in_window} + {entering} - {leaving})"
        )
    return rolled


class Standing(StrEnum):
    """Where an AHR stands against the AHA line as well as its band: 200-249 is healthy but
    below what AHA needs, so the dashboard does not show it as good news."""

    QUALIFIES = "qualifies"
    BELOW_AHA_LINE = "below_aha_line"
    AT_RISK = "at_risk"
    UNHEALTHY = "unhealthy"


def standing(ahr: int) -> Standing:
    """The AHR's standing: at or above the AHA line, healthy below it, at risk, or unhealthy."""
    if ahr >= AHA_LINE:
        return Standing.QUALIFIES
    if ahr >= HEALTHY_FROM:
        return Standing.BELOW_AHA_LINE
    if ahr >= AT_RISK_FROM:
        return Standing.AT_RISK
    return Standing.UNHEALTHY


def expires_on(detected_on: date) -> date:
    """The first day a violation no longer counts against the AHR (detection day + 180)."""
    return detected_on + timedelta(days=WINDOW_DAYS)


def ahr_now(recorded: int, violations: Iterable[ViolationFacts], day: date) -> int:
    """The AHR to show today: the last closed day's, except that an active critical violation
    takes effect at once (0), not only when the night closes."""
    if any(v.severity == Severity.CRITICAL and is_active(v, day) for v in violations):
        return MIN_AHR
    return recorded


def ahr_if_resolved(
    violation: ViolationFacts,
    *,
    current: int,
    orders_in_window: int,
    violations: Iterable[ViolationFacts],
    day: date,
) -> int:
    """The AHR with `violation` resolved today (`violations` holds it and every other one)."""
    if not is_active(violation, day):
        return current
    others = [other for other in violations if other is not violation]
    critical_left = any(o.severity == Severity.CRITICAL and is_active(o, day) for o in others)
    if violation.severity == Severity.CRITICAL or critical_left:
        return compute_ahr(orders_in_window=orders_in_window, violations=others, day=day)
    return min(MAX_AHR, current + violation_points(violation))
