"""The seller's words for an outlook: each item of a day's change, and why a store account would
never qualify. The pure module speaks in rule terms; this says which violation (its category and
detection day) and how many points, in the page's language."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from fractions import Fraction

from django.utils.formats import date_format, number_format
from django.utils.translation import gettext, ngettext

from accounts.models import StoreAccount
from health.chart import signed
from health.eligibility import MAX_DAYS_BELOW
from health.forecast import (
    EXPLAINED_DAYS,
    FORECAST_DAYS,
    RECENT_DAYS,
    Change,
    DayChange,
    Forecast,
    Item,
    Never,
)
from health.models import ViolationCategory
from health.outlook import Outlook
from health.rating import (
    AHA_LINE,
    MAX_AHR,
    MIN_AHR,
    WINDOW_DAYS,
    Severity,
    ViolationFacts,
    violation_points,
)


@dataclass(frozen=True, slots=True)
class ItemText:
    """One line of "What moved your AHR": what happened, and its signed points."""

    text: str
    points: int
    signed: str
    points_text: str


@dataclass(frozen=True, slots=True)
class DayText:
    day: dt.date
    before: int
    after: int
    items: tuple[ItemText, ...]

    @property
    def points(self) -> int:
        return self.after - self.before


def points_text(points: int) -> str:
    """The signed points with the plural the language needs ("+4 points")."""
    return ngettext("%(points)s point", "%(points)s points", abs(points)) % {
        "points": signed(points)
    }


def _violation(facts: ViolationFacts) -> dict[str, str]:
    return {
        "category": str(ViolationCategory(facts.category).label),
        "date": date_format(facts.detected_on, "DATE_FORMAT"),
    }


def item_text(item: Item) -> str:
    """What happened, in the seller's terms."""
    if item.change == Change.VOLUME:
        before, after = item.orders
        values = {
            "before": number_format(before, force_grouping=True),
            "after": number_format(after, force_grouping=True),
            "days": WINDOW_DAYS,
        }
        if item.points > 0:
            return (
                gettext(
                    "More orders in the last %(days)s days (%(before)s, now %(after)s) reached"
                    " the next step of the volume bonus"
                )
                % values
            )
        return (
            gettext(
                "Fewer orders in the last %(days)s days (%(before)s, now %(after)s): older days"
                " left the window"
            )
            % values
        )
    if item.change == Change.STARTS:
        if item.facts.repeat:
            return gettext(
                "%(category)s: the violation detected on %(date)s started to count, double as a"
                " repeat (another one of its category was detected in the %(days)s days"
                " before it)"
            ) % {**_violation(item.facts), "days": WINDOW_DAYS}
        return gettext(
            "%(category)s: the violation detected on %(date)s started to count"
        ) % _violation(item.facts)
    if item.change == Change.RESOLVED:
        return gettext(
            "%(category)s: the violation detected on %(date)s was resolved"
        ) % _violation(item.facts)
    if item.change == Change.EXPIRED:
        return gettext(
            "%(category)s: the violation detected on %(date)s stopped counting after %(days)s days"
        ) % {
            **_violation(item.facts),
            "days": WINDOW_DAYS,
        }
    if item.change == Change.CRITICAL_STARTS:
        return gettext(
            "%(category)s: the critical violation detected on %(date)s set your AHR to 0"
        ) % _violation(item.facts)
    if item.change == Change.CRITICAL_ENDS:
        if item.resolved:
            return gettext(
                "%(category)s: the critical violation detected on %(date)s was resolved, so"
                " your AHR counts again"
            ) % _violation(item.facts)
        return gettext(
            "%(category)s: the critical violation detected on %(date)s stopped counting after"
            " %(days)s days, so your AHR counts again"
        ) % {**_violation(item.facts), "days": WINDOW_DAYS}
    if item.change == Change.LIMIT:
        return gettext("The AHR stays between %(low)s and %(high)s") % {
            "low": MIN_AHR,
            "high": MAX_AHR,
        }
    return gettext("Data received or corrected after the day closed")


def day_texts(changes: list[DayChange]) -> list[DayText]:
    """Each changed day with its items in words."""
    return [
        DayText(
            day=change.day,
            before=change.before,
            after=change.after,
            items=tuple(
                ItemText(
                    item_text(item), item.points, signed(item.points), points_text(item.points)
                )
                for item in change.items
            ),
        )
        for change in changes
    ]


def never_text(never: Never) -> str:
    """Why the store account would never qualify as things stand."""
    return {
        Never.PLAN: gettext("Only store accounts on the Professional selling plan can join AHA."),
        Never.CONTACT: gettext("AHA needs a valid emergency contact phone number."),
        Never.DEACTIVATED: gettext("A deactivated store account cannot join AHA."),
        Never.BARRED: gettext(
            "This store account is barred from AHA until an account health specialist lifts"
            " the bar."
        ),
        Never.BELOW_LINE: gettext(
            "If nothing changes, your AHR stays below %(line)s on more than %(allowed)s days of"
            " every %(days)s-day window."
        )
        % {"line": AHA_LINE, "allowed": MAX_DAYS_BELOW, "days": WINDOW_DAYS},
    }[never]


def rate_text(rate: Fraction) -> str:
    """A daily order rate with one decimal, in the page's number format."""
    return number_format(round(float(rate), 1), decimal_pos=1, force_grouping=True)


@dataclass(frozen=True, slots=True)
class ForecastText:
    """What a forecast says, ready for the page."""

    tonight: int
    in_30_days: int
    at_end: int
    end_day: dt.date
    lowest: int
    enrolled: bool
    qualifying_day: dt.date | None
    never: str
    qualifying_day_with_contact: dt.date | None
    consecutive_below_now: int
    r1_day_if_it_goes_on: dt.date | None
    removal_day: dt.date | None
    daily_orders: str


@dataclass(frozen=True, slots=True)
class OpenViolationChoice:
    pk: int
    label: str
    checked: bool


# "In 30 days" on the forecast: the length of the explained month, looking ahead.
LOOK_AHEAD_DAYS = EXPLAINED_DAYS


def forecast_text(forecast: Forecast) -> ForecastText:
    shown = forecast.shown
    ahead = shown[min(LOOK_AHEAD_DAYS, len(shown)) - 1]
    return ForecastText(
        tonight=forecast.first.ahr,
        in_30_days=ahead.ahr,
        at_end=shown[-1].ahr,
        end_day=shown[-1].day,
        lowest=min(day.ahr for day in shown),
        enrolled=forecast.start.enrolled,
        qualifying_day=forecast.qualifying_day,
        never=never_text(forecast.never) if forecast.never else "",
        qualifying_day_with_contact=forecast.qualifying_day_with_contact,
        consecutive_below_now=forecast.consecutive_below_now,
        r1_day_if_it_goes_on=forecast.r1_day_if_it_goes_on,
        removal_day=forecast.removal.day if forecast.removal else None,
        daily_orders=rate_text(forecast.daily_orders),
    )


def outlook_context(outlook: Outlook, store_account: StoreAccount) -> dict[str, object]:
    """The outlook card's words: what moved, the forecast, the what-if and its choices."""
    chosen = outlook.question.resolve
    choices = [
        OpenViolationChoice(
            pk=pk,
            label=gettext("%(category)s: detected on %(date)s (%(points)s)")
            % {
                **_violation(facts),
                "points": (
                    gettext("sets AHR to 0")
                    if facts.severity == Severity.CRITICAL
                    else points_text(-violation_points(facts))
                ),
            },
            checked=pk in chosen,
        )
        for pk, facts in sorted(
            outlook.open_violations.items(), key=lambda item: (item[1].detected_on, item[0])
        )
    ]
    baseline = forecast_text(outlook.forecast)
    asked = forecast_text(outlook.what_if) if outlook.what_if else None
    moved = None
    if asked and asked.qualifying_day and baseline.qualifying_day:
        moved = (baseline.qualifying_day - asked.qualifying_day).days
    return {
        "days": day_texts(outlook.changes),
        "explained_days": EXPLAINED_DAYS,
        "recent_days": RECENT_DAYS,
        "forecast_days": FORECAST_DAYS,
        "forecast": baseline,
        "what_if": asked,
        "qualifying_moved_by": moved,
        "choices": choices,
        "asked_orders": (
            rate_text(outlook.question.daily_orders)
            if outlook.question.daily_orders is not None
            else ""
        ),
        # The number field's own value: a plain decimal, never grouped or with a decimal comma
        # (a browser empties a number field whose value it cannot read).
        "asked_orders_value": (
            f"{round(float(outlook.question.daily_orders), 1):.1f}"
            if outlook.question.daily_orders is not None
            else ""
        ),
        "recent_orders": rate_text(outlook.recent_daily_orders),
        "resolve_on": outlook.resolve_on,
        "store_account": store_account,
    }
