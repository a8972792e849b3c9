"""The AHR trend as one server-rendered SVG: a handful of paths, whatever the number of days.

Rendering one element per day costs milliseconds per page; one path string costs microseconds
and weighs a few KB, and the chart is complete without JavaScript. The paths are drawn in day
coordinates (x the day's index, y the AHR) under one transform, with relative moves, so a day
costs a few bytes: a year of days fits the page's weight budget with its data table.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import groupby, pairwise

from health.rating import AHA_LINE, AT_RISK_FROM, HEALTHY_FROM, MAX_AHR, MIN_AHR

WIDTH = 720
HEIGHT = 240
PAD_LEFT = 40
PAD_RIGHT = 8
# Above the plot: the strip of the violation marks; below it: the days below the AHA line and
# the dates, whose labels grow on a phone (site.css) to stay readable when the chart shrinks.
PAD_TOP = 18  # site.css sizes the days of the plot (.days rect) from it and the height
PAD_BOTTOM = 40
# The top of the violation marks (12 units tall, the template's markers), above the plot.
MARK_TOP = 4
# The middle of the strip of the days below the AHA line, under the plot.
BELOW_Y = HEIGHT - PAD_BOTTOM + 6
# The y axis goes to at least this, so that the 250 line and the bands are always in view.
MIN_TOP = 400
TOP_STEP = 100


@dataclass(frozen=True, slots=True)
class Gridline:
    value: int
    y: float
    kind: str


@dataclass(frozen=True, slots=True)
class BandArea:
    name: str
    y: float
    height: float


@dataclass(frozen=True, slots=True)
class TableDay:
    """One row of the chart's data table: a charted day, its AHR (None when not recorded) and
    the points it moved since the day before (None when either day has no record)."""

    day: dt.date
    ahr: int | None
    change: int | None

    @property
    def change_text(self) -> str:
        return "" if self.change is None else signed(self.change)


@dataclass(frozen=True, slots=True)
class TableMonth:
    """The table's rows of one month, under a header naming it."""

    month: dt.date
    days: tuple[TableDay, ...]


@dataclass(frozen=True, slots=True)
class TrendChart:
    """Everything the template needs to draw the trend and describe it in words."""

    first_day: dt.date
    last_day: dt.date
    days: int
    line: str
    below_marks: str
    gridlines: tuple[Gridline, ...]
    bands: tuple[BandArea, ...]
    now: int | None
    minimum: int | None
    maximum: int | None
    days_below: int
    days_recorded: int
    # The forecast drawn after the last day (a dashed continuation of the line).
    forecast_line: str = ""
    forecast_days: int = 0
    forecast_last_day: dt.date | None = None
    last_x: float = WIDTH - PAD_RIGHT
    # The days violations were detected and resolved on, a path of one vertex a day each (the
    # template draws a marker at every vertex: a triangle for a detection, a diamond for a
    # resolution).
    detected_marks: str = ""
    resolved_marks: str = ""
    table: tuple[TableMonth, ...] = ()
    # The paths in day coordinates are placed by these transforms (see the module docstring).
    plot_transform: str = ""
    days_transform: str = ""
    below_transform: str = ""
    width: int = WIDTH
    height: int = HEIGHT
    plot_left: int = PAD_LEFT
    plot_right: int = WIDTH - PAD_RIGHT
    plot_top: int = PAD_TOP
    plot_height: int = HEIGHT - PAD_TOP - PAD_BOTTOM
    plot_bottom: int = HEIGHT - PAD_TOP - PAD_BOTTOM + PAD_TOP
    plot_width: int = WIDTH - PAD_LEFT - PAD_RIGHT

    @property
    def empty(self) -> bool:
        return self.days_recorded == 0

    @property
    def axis_format(self) -> str:
        """The Django date format of the axis dates: the day and month in the page's language,
        with the year when the chart spans two."""
        last = self.forecast_last_day or self.last_day
        return "MONTH_DAY_FORMAT" if self.first_day.year == last.year else "DATE_FORMAT"


def signed(points: int) -> str:
    """+4, 0 or -4 written with a real minus sign, as the dashboard writes points."""
    return f"+{points}" if points > 0 else f"\u2212{-points}" if points < 0 else "0"


def build_trend(
    ratings: Iterable[tuple[dt.date, int]],
    *,
    last_day: dt.date,
    days: int,
    forecast: Iterable[tuple[dt.date, int]] = (),
    detected: Iterable[dt.date] = (),
    resolved: Iterable[dt.date] = (),
) -> TrendChart:
    """The chart of the `days` days ending at `last_day`; days without a record leave a gap.
    A `forecast` of the days after `last_day` widens the chart and continues the line dashed;
    `detected` and `resolved` are the days violations were detected and resolved on."""
    first_day = last_day - dt.timedelta(days=days - 1)
    known = dict(ratings)
    points = sorted((day, ahr) for day, ahr in known.items() if first_day <= day <= last_day)
    ahead = sorted((day, ahr) for day, ahr in forecast if day > last_day)
    values = [ahr for _day, ahr in points]
    top = _axis_top(max(values + [ahr for _day, ahr in ahead], default=MIN_AHR))
    x_step = (WIDTH - PAD_LEFT - PAD_RIGHT) / max(days + len(ahead) - 1, 1)
    y_scale = (HEIGHT - PAD_TOP - PAD_BOTTOM) / (top - MIN_AHR)
    # Where the strip of day 0 starts: each day is centred on its x.
    day_left = PAD_LEFT - x_step / 2

    def index(day: dt.date) -> int:
        return (day - first_day).days

    def x(day: dt.date) -> float:
        return PAD_LEFT + index(day) * x_step

    def y(ahr: int) -> float:
        return PAD_TOP + (top - min(ahr, top)) * y_scale

    def marks(marked: Iterable[dt.date]) -> str:
        # One vertex a day, where the template's marker is drawn: "M430 4h1 2" marks three days.
        xs = [round(x(day)) for day in sorted(set(marked)) if first_day <= day <= last_day]
        steps = " ".join(str(b - a) for a, b in pairwise(xs))
        return f"M{xs[0]} {MARK_TOP}h{steps or 0}" if xs else ""

    indexed = [(index(day), ahr) for day, ahr in points]
    return TrendChart(
        first_day=first_day,
        last_day=last_day,
        days=days,
        line=_line_path(indexed),
        below_marks=_below_path(indexed),
        gridlines=_gridlines(top, y),
        bands=tuple(
            BandArea(name, y(upper), y(lower) - y(upper))
            for name, upper, lower in (
                ("healthy", top, HEALTHY_FROM),
                ("at_risk", HEALTHY_FROM, AT_RISK_FROM),
                ("unhealthy", AT_RISK_FROM, MIN_AHR),
            )
        ),
        now=values[-1] if points and points[-1][0] == last_day else None,
        minimum=min(values, default=None),
        maximum=max(values, default=None),
        days_below=sum(1 for value in values if value < AHA_LINE),
        days_recorded=len(values),
        # From the last recorded day on, so that the dashed line continues the solid one.
        forecast_line=_line_path(
            [(index(day), ahr) for day, ahr in points[-1:] + ahead] if ahead else []
        ),
        forecast_days=len(ahead),
        forecast_last_day=ahead[-1][0] if ahead else None,
        last_x=x(last_day),
        detected_marks=marks(detected),
        resolved_marks=marks(resolved),
        table=_table(known, first_day, last_day),
        plot_transform=(
            f"matrix({x_step:.4f} 0 0 {-y_scale:.4f} {PAD_LEFT} {PAD_TOP + top * y_scale:.2f})"
        ),
        days_transform=f"translate({day_left:.2f} 0) scale({x_step:.4f} 1)",
        below_transform=f"translate({day_left:.2f} {BELOW_Y}) scale({x_step:.4f} 1)",
    )


def _axis_top(highest: int) -> int:
    rounded = -(-highest // TOP_STEP) * TOP_STEP
    return min(max(MIN_TOP, rounded), MAX_AHR)


def _gridlines(top: int, y) -> tuple[Gridline, ...]:
    return tuple(
        Gridline(value, y(value), kind)
        for value, kind in (
            (AT_RISK_FROM, "band"),
            (HEALTHY_FROM, "band"),
            (AHA_LINE, "aha"),
            (top, "top"),
        )
    )


def _line_path(points: list[tuple[int, int]]) -> str:
    """One path in day coordinates (x the day's index, y the AHR), each day a relative step
    from the one before; a missing day starts a new segment instead of joining across the gap,
    and a run of days of the same AHR is one horizontal step."""
    parts: list[str] = []
    previous: tuple[int, int] | None = None
    for day, ahr in points:
        if previous is None or day - previous[0] != 1:
            parts.append(f"M{day} {ahr}")
        elif ahr == previous[1] and parts[-1].startswith("h"):
            parts[-1] = f"h{int(parts[-1][1:]) + 1}"
        elif ahr == previous[1]:
            parts.append("h1")
        elif parts[-1].startswith("l"):
            # A lineto repeats without its letter; a minus sign separates the numbers.
            change = ahr - previous[1]
            parts[-1] += f" 1 {change}" if change > 0 else f" 1{change}"
        else:
            parts.append(f"l1 {ahr - previous[1]}")
        previous = (day, ahr)
    return "".join(parts)


def _below_path(points: list[tuple[int, int]]) -> str:
    """The strip under the plot, a run of days below the AHA line one stroke, in day
    coordinates (the below transform: each day one unit wide, y 0 the strip's middle)."""
    below = [day for day, ahr in points if ahr < AHA_LINE]
    parts: list[str] = []
    end = 0
    for run in _runs(below):
        # Relative moves from the end of the run before: "m2 0h1" costs less than "M5 206h1".
        parts.append(f"{'m' if parts else 'M'}{run[0] - end} 0h{len(run)}")
        end = run[0] + len(run)
    return "".join(parts)


def _runs(days: list[int]) -> Iterator[list[int]]:
    """Consecutive indexes grouped: [1, 2, 3, 7] gives [1, 2, 3] and [7]."""
    for _key, run in groupby(enumerate(days), key=lambda pair: pair[1] - pair[0]):
        yield [day for _position, day in run]


def _table(
    known: dict[dt.date, int], first_day: dt.date, last_day: dt.date
) -> tuple[TableMonth, ...]:
    """Every charted day, by month, with its AHR and its change since the day before."""
    rows = []
    day = first_day
    while day <= last_day:
        ahr = known.get(day)
        before = known.get(day - dt.timedelta(days=1))
        rows.append(
            TableDay(day, ahr, ahr - before if ahr is not None and before is not None else None)
        )
        day += dt.timedelta(days=1)
    return tuple(
        TableMonth(month, tuple(days))
        for month, days in groupby(rows, key=lambda row: row.day.replace(day=1))
    )
